// The demo's stand-in of 浙里办's analytics script: page views are kept in window.zwlogPageViews to look at.
(function () {
  window.zwlogPageViews = window.zwlogPageViews || [];
  function ZwLog(user) { this.user = user || {}; }
  ZwLog.prototype.onReady = function (callback) { setTimeout(callback, 0); };
  ZwLog.prototype.sendPV = function (view) { window.zwlogPageViews.push(view); };
  window.ZwLog = ZwLog;
})();
