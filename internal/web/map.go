// SPDX-License-Identifier: Apache-2.0

package web

// mapRoutes are the map, timeline and dashboard pages and their data.
func (s *server) mapRoutes() []route {
	return nil
}
