// Upload progress for /evidence/upload (progressive enhancement: the form
// works without this script). It sends the same multipart form with
// XMLHttpRequest to show a progress bar, with the CSRF token in the form's
// first part as the plain form does, then follows the server's redirect.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.XMLHttpRequest || !window.FormData) {
    return;
  }
  var box = document.getElementById("upload-progress");
  var bar = document.getElementById("upload-bar");
  var pct = document.getElementById("upload-pct");
  var button = document.getElementById("upload");
  form.addEventListener("submit", function (ev) {
    var file = document.getElementById("file");
    if (!file.files || file.files.length === 0) {
      return; // the browser's own "required" message
    }
    ev.preventDefault();
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.getAttribute("action"));
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) {
        var p = Math.floor((e.loaded / e.total) * 100);
        bar.value = p;
        pct.textContent = p + " %";
      }
    });
    xhr.addEventListener("load", function () {
      if (xhr.status >= 200 && xhr.status < 300) {
        window.location.assign(xhr.responseURL);
        return;
      }
      // Show the server's page (its message) as the plain form would.
      var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
      var alert = doc.querySelector(".alert");
      showError(alert ? alert.textContent : String(xhr.status));
    });
    xhr.addEventListener("error", function () {
      showError(form.getAttribute("data-neterror") || "Network error");
    });
    box.hidden = false;
    button.disabled = true;
    bar.value = 0;
    pct.textContent = "0 %";
    xhr.send(new FormData(form));
  });
  function showError(msg) {
    button.disabled = false;
    box.hidden = true;
    var p = document.getElementById("upload-error");
    if (!p) {
      p = document.createElement("p");
      p.id = "upload-error";
      p.className = "alert";
      p.setAttribute("role", "alert");
      form.insertBefore(p, form.firstChild);
    }
    p.textContent = msg;
  }
})();
