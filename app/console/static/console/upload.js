// The department desk's CSV upload: send the file with upload progress, then show the import's progress (rows
// processed, polled from the server) until the batch page opens.
(function () {
  "use strict";
  function randomId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function bind() {
    var form = document.getElementById("upload-form");
    if (!form) { return; }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var uploadId = randomId();
      document.getElementById("upload-id").value = uploadId;
      var box = document.getElementById("upload-progress");
      var label = document.getElementById("progress-label");
      var bar = document.getElementById("progress-bar");
      var button = form.querySelector("button[type=submit]");
      box.hidden = false;
      button.disabled = true;
      var polling = null;
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.getAttribute("action") || window.location.pathname);
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) {
          var share = Math.round(e.loaded * 100 / e.total);
          bar.style.width = (share * 0.3) + "%";
          label.textContent = "正在上传… " + share + "%";
        }
      });
      xhr.upload.addEventListener("load", function () {
        label.textContent = "正在导入…";
        var url = form.getAttribute("data-progress-url").replace("__UPLOAD__", uploadId);
        polling = window.setInterval(function () {
          fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (p) {
            if (p.total) {
              bar.style.width = (30 + 70 * p.processed / p.total) + "%";
              label.textContent = "正在导入… 已处理 " + p.processed + " / " + p.total + " 行";
            }
          }).catch(function () {});
        }, 400);
      });
      xhr.addEventListener("load", function () {
        if (polling) { window.clearInterval(polling); }
        if (xhr.status < 300 && xhr.responseURL.indexOf("/desk/batches/") !== -1) {
          bar.style.width = "100%";
          label.textContent = "导入完成，正在打开批次详情…";
          window.location.assign(xhr.responseURL);
          return;
        }
        var page = new DOMParser().parseFromString(xhr.responseText, "text/html");
        var main = page.querySelector("main");
        if (main) {
          document.querySelector("main").replaceWith(main);
          bind();
        } else {
          label.textContent = "上传失败（" + xhr.status + "），请稍后重试。";
          button.disabled = false;
        }
      });
      xhr.addEventListener("error", function () {
        if (polling) { window.clearInterval(polling); }
        label.textContent = "网络错误，上传失败，请重试。";
        button.disabled = false;
      });
      xhr.send(new FormData(form));
    });
  }
  bind();
})();
