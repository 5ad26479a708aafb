// SPDX-License-Identifier: Apache-2.0

package web

// formRoutes are the forms that create and edit records, and search.
func (s *server) formRoutes() []route {
	return nil
}
