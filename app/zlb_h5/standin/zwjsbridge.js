// The demo's stand-in of 浙里办's ZWJSBridge (the real one comes from 浙里办's own script inside the app).
// It answers the calls the H5 makes, in the real bridge's shapes: ssoTicket() asks the demo's stand-in SSO for a
// fresh ticket for the citizen picked on the container page; getUiStyle() says 'elder' when 长辈版 is on;
// getLocation() is a fixed point in 绍兴 (越城区).
(function () {
  var KEY = 'zlbStandin';

  function picked() {
    try { return JSON.parse(window.localStorage.getItem(KEY) || '{}'); } catch (e) { return {}; }
  }

  window.ZWJSBridge = {
    onReady: function (callback) { setTimeout(callback, 0); },
    ssoTicket: function () {
      var handle = picked().handle;
      if (!handle) return Promise.resolve({ result: false, errorMessage: '请先在容器页面选择演示居民' });
      return fetch('demo/ticket', {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ handle: handle })
      }).then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok || !body.ticketId) return { result: false, errorMessage: body.message || '取票失败' };
          return { result: true, ticketId: body.ticketId };
        });
      });
    },
    getUiStyle: function () { return Promise.resolve({ uiStyle: picked().uiStyle === 'elder' ? 'elder' : 'normal' }); },
    getLocation: function () {
      return Promise.resolve({ latitude: 30.0023, longitude: 120.5810, city: '绍兴市', detailAddress: '浙江省绍兴市越城区' });
    },
    setTitle: function () { return Promise.resolve({}); },
    close: function () { window.location.href = 'standin/'; return Promise.resolve({}); }
  };
})();
