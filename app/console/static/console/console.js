// Small behaviours shared by the console's pages (no inline scripts: the Content-Security-Policy forbids them).
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
  // htmx requests carry the CSRF token of the page's forms.
  document.addEventListener("htmx:configRequest", function (event) {
    var token = document.querySelector("input[name=csrf_token]");
    if (token) {
      event.detail.headers["X-CSRFToken"] = token.value;
    }
  });
})();
