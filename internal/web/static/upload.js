// SPDX-License-Identifier: Apache-2.0
//
// Upload with a progress bar: a form marked data-upload is sent with
// XMLHttpRequest so that its progress can be shown; without JavaScript the
// form posts as usual.

for (const form of document.querySelectorAll('form[data-upload]')) {
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const bar = form.querySelector('progress');
    const status = form.querySelector('.upload-status');
    const xhr = new XMLHttpRequest();
    xhr.open('POST', form.action);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) {
        bar.hidden = false;
        bar.max = e.total;
        bar.value = e.loaded;
        status.textContent = `${Math.round((100 * e.loaded) / e.total)} % sent`;
      }
    });
    xhr.addEventListener('load', () => {
      if (xhr.status === 201) {
        status.textContent = 'Stored and logged.';
        window.location.reload();
        return;
      }
      let msg = `upload failed (${xhr.status})`;
      try { msg = JSON.parse(xhr.responseText).error || msg; } catch { /* not JSON */ }
      status.textContent = msg;
    });
    xhr.addEventListener('error', () => { status.textContent = 'upload failed: the connection broke'; });
    xhr.send(new FormData(form));
  });
}
