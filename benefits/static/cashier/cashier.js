/* The cashier's page: sign in with the terminal key once per device, pick offer and branch, scan credit codes
 * (camera through ZXing, or a hand scanner typing into the box), show the answer large, list today's
 * redemptions with a cancel button inside the window. Everything shown comes from the merchant API. */
(function () {
  'use strict';

  var API = document.body.getAttribute('data-api');
  var KEY = 'xyf.cashier.key';
  var OFFER = 'xyf.cashier.offer';
  var BRANCH = 'xyf.cashier.branch';
  var CAMERA = 'xyf.cashier.camera';
  var TODAY_REFRESH_MS = 30000;
  var STATES = { paused: '已暂停', not_yet_valid: '未开始' };

  var home = null;          // the terminal, its merchant's branches and offers (GET /me)
  var busy = false;         // a verification is on its way
  // @zxing/library's DecodeHintType.TRY_HARDER (the browser bundle does not export the enum): the decoder looks for
  // the symbol on every row of a frame, not every few rows; a counter's camera has time for it between scans.
  var TRY_HARDER = 3;
  var reader = null;        // ZXing's QR reader
  var controls = null;      // the running camera scan
  var lastCameraCode = null;
  var todayTimer = null;

  function $(id) { return document.getElementById(id); }

  var store = {
    get: function (k) { try { return window.localStorage.getItem(k); } catch (e) { return null; } },
    set: function (k, v) { try { window.localStorage.setItem(k, v); } catch (e) { /* private mode */ } },
    remove: function (k) { try { window.localStorage.removeItem(k); } catch (e) { /* private mode */ } }
  };

  function ApiError(status, body) {
    this.status = status;
    this.code = body && body.code;
    this.message = (body && body.message) || '服务器暂时无法处理，请稍后重试。';
  }

  /* Calls the merchant API with the terminal key; a 401 while signed in signs the device out. */
  function api(path, options) {
    options = options || {};
    var key = options.key || store.get(KEY) || '';
    var headers = { 'Accept': 'application/json', 'Authorization': 'Bearer ' + key };
    var init = { method: options.method || 'GET', headers: headers, cache: 'no-store', credentials: 'omit' };
    if (options.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(options.body);
    }
    return fetch(API + path, init).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (body) {
        if (response.ok) { return body; }
        var error = new ApiError(response.status, body || {
          message: '服务器暂时无法处理（' + response.status + '），请稍后重试。'
        });
        if (response.status === 401 && !options.key) { signOut(error.message); }
        throw error;
      });
    }, function () {
      throw new ApiError(0, { message: '网络连接失败，请检查网络后重试。' });
    });
  }

  function show(id, text) {
    var el = $(id);
    el.textContent = text || '';
    el.hidden = !text;
  }

  // -- sign in / out -------------------------------------------------------------------------------------------

  function showSignIn(message) {
    $('desk').hidden = true;
    $('who').hidden = true;
    $('signin').hidden = false;
    show('signin-error', message);
    $('terminal-key').value = '';
    $('terminal-key').focus();
  }

  function signOut(message) {
    stopCamera();
    if (todayTimer) { window.clearInterval(todayTimer); todayTimer = null; }
    store.remove(KEY);
    home = null;
    showSignIn(message);
  }

  function onSignIn(event) {
    event.preventDefault();
    var key = $('terminal-key').value.trim();
    if (!key) { show('signin-error', '请输入终端密钥。'); return; }
    var button = event.target.querySelector('button[type=submit]');
    button.disabled = true;
    show('signin-error', '');
    api('/me', { key: key }).then(function (answer) {
      store.set(KEY, key);
      openDesk(answer);
    }, function (error) {
      show('signin-error', error.status === 401 ? '终端密钥无效或已停用，请核对后重新输入。' : error.message);
    }).then(function () { button.disabled = false; });
  }

  // -- offer and branch ----------------------------------------------------------------------------------------

  function option(value, text, disabled) {
    var el = document.createElement('option');
    el.value = value;
    el.textContent = text;
    el.disabled = !!disabled;
    return el;
  }

  function fillBranches() {
    var select = $('branch');
    select.textContent = '';
    var fixed = home.terminal_branch_id;
    var branches = home.branches.filter(function (b) { return !fixed || b.branch_id === fixed; });
    branches.forEach(function (b) { select.appendChild(option(b.branch_id, b.name)); });
    var saved = store.get(BRANCH);
    if (saved && branches.some(function (b) { return b.branch_id === saved; })) { select.value = saved; }
    select.disabled = !!fixed || branches.length < 2;
  }

  function fillOffers() {
    var select = $('offer');
    var branch = $('branch').value;
    select.textContent = '';
    var usable = [];
    home.offers.forEach(function (o) {
      if (o.branch_ids.length && o.branch_ids.indexOf(branch) < 0) { return; }
      var inactive = o.state !== 'active';
      select.appendChild(option(o.offer_id, o.title + '（' + o.scene + '）' +
        (inactive ? ' · ' + (STATES[o.state] || '不可用') : ''), inactive));
      if (!inactive) { usable.push(o.offer_id); }
    });
    var saved = store.get(OFFER);
    select.value = usable.indexOf(saved) >= 0 ? saved : (usable[0] || '');
    show('choose-error', usable.length ? '' : '本门店暂无可核销的权益，请联系信用中心。');
  }

  // -- the answer ----------------------------------------------------------------------------------------------

  /* Now in the city's time, as the server's times in the list are (the tablet's own zone may differ). */
  function clock() {
    try {
      return new Date().toLocaleTimeString('zh-CN', { timeZone: 'Asia/Shanghai', hour12: false });
    } catch (e) {
      return new Date().toTimeString().slice(0, 8);
    }
  }

  function showResult(kind, title, person, message) {
    var box = $('result');
    box.className = 'result result--' + kind;
    $('result-title').textContent = title;
    $('result-person').textContent = person || '';
    $('result-message').textContent = message || '';
  }

  function personOf(answer) {
    var parts = [];
    if (answer.masked_name) { parts.push(answer.masked_name); }
    if (answer.level_name) { parts.push('信用' + answer.level_name); }
    if (answer.partner_city) { parts.push(answer.partner_city + '市民'); }
    return parts.join(' · ');
  }

  function offerTitle() {
    var select = $('offer');
    var chosen = select.options[select.selectedIndex];
    return chosen ? chosen.textContent : '';
  }

  function verify(code, source) {
    code = (code || '').trim();
    if (busy) { return; }
    if (!code) { showResult('error', '请先扫描信用码', '', '用摄像头或扫码枪扫描顾客出示的信用码。'); return; }
    var offerId = $('offer').value;
    if (!offerId) { showResult('error', '请先选择要核销的权益', '', ''); return; }
    var body = { code: code, offer_id: offerId };
    if ($('branch').value) { body.branch_id = $('branch').value; }
    busy = true;
    showResult('busy', '正在核验…', '', '');
    api('/verifications', { method: 'POST', body: body }).then(function (answer) {
      if (answer.eligible) {
        showResult('ok', '核验通过', personOf(answer), offerTitle() + ' · ' + clock() + ' · ' + answer.message);
      } else {
        showResult('refused', answer.message, personOf(answer), '未通过 · ' + clock());
      }
      loadToday();
    }, function (error) {
      if (source === 'camera') { lastCameraCode = null; }  // not answered: the same code may be scanned again
      if (error.status !== 401) { showResult('error', '核验未完成', '', error.message); }
    }).then(function () {
      busy = false;
    });
  }

  function onCodeSubmit(event) {
    event.preventDefault();
    var input = $('code-input');
    var code = input.value;
    input.value = '';
    verify(code, 'box');
    input.focus();
  }

  // -- camera --------------------------------------------------------------------------------------------------

  function cameraStatus(text) { $('camera-status').textContent = text || ''; }

  function cameraUi(on) {
    $('camera-off').hidden = on;
    $('camera-toggle').textContent = on ? '关闭摄像头' : '打开摄像头扫码';
  }

  function onDecode(result) {
    if (!result || busy) { return; }
    var text = result.getText();
    if (text === lastCameraCode) { return; }  // the same code still in front of the camera
    lastCameraCode = text;
    verify(text, 'camera');
  }

  function startCamera() {
    if (!window.ZXingBrowser) { cameraStatus('扫码组件未加载，请使用扫码枪或手工输入。'); return; }
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      cameraStatus('此浏览器不能使用摄像头（需通过 HTTPS 打开本页），请使用扫码枪或手工输入。');
      return;
    }
    $('camera-toggle').disabled = true;
    cameraStatus('正在打开摄像头…');
    reader = reader || new window.ZXingBrowser.BrowserQRCodeReader(new Map([[TRY_HARDER, true]]),
                                                                   { delayBetweenScanAttempts: 150 });
    reader.decodeFromConstraints({ video: { facingMode: 'environment' } }, $('camera'), onDecode)
      .then(function (running) {
        controls = running;
        store.set(CAMERA, 'on');
        cameraUi(true);
        cameraStatus('请将顾客的信用码对准摄像头');
      }, function (error) {
        cameraUi(false);
        cameraStatus(error && error.name === 'NotAllowedError'
          ? '未获得摄像头权限，请在浏览器设置中允许本页使用摄像头，或使用扫码枪。'
          : '无法打开摄像头，请检查设备，或使用扫码枪、手工输入。');
      }).then(function () { $('camera-toggle').disabled = false; });
  }

  function stopCamera() {
    if (controls) { controls.stop(); controls = null; }
    lastCameraCode = null;
    cameraUi(false);
    cameraStatus('');
  }

  function onCameraToggle() {
    if (controls) {
      stopCamera();
      store.set(CAMERA, 'off');
    } else {
      startCamera();
    }
  }

  // -- today's redemptions -------------------------------------------------------------------------------------

  function todayNotice(text, ok) {
    var el = $('today-message');
    el.className = ok ? 'notice-ok' : 'field-error';
    show('today-message', text);
  }

  function cell(text, className) {
    var td = document.createElement('td');
    td.textContent = text;
    if (className) { td.className = className; }
    return td;
  }

  function cancelButton(item) {
    var button = document.createElement('button');
    button.type = 'button';
    button.className = 'btn btn-danger';
    button.textContent = '撤销';
    button.title = '可撤销至 ' + item.cancellable_until.slice(11, 16);
    var timer = null;
    button.addEventListener('click', function () {
      if (!button.classList.contains('confirm')) {  // two taps: a slip of the finger must not cancel
        button.classList.add('confirm');
        button.textContent = '确认撤销';
        timer = window.setTimeout(function () {
          button.classList.remove('confirm');
          button.textContent = '撤销';
        }, 5000);
        return;
      }
      window.clearTimeout(timer);
      button.disabled = true;
      api('/redemptions/' + encodeURIComponent(item.redemption_id) + '/cancel', { method: 'POST' })
        .then(function () {
          todayNotice('已撤销 ' + item.redeemed_at.slice(11, 19) + ' 的核销，次数和名额已退回。', true);
        }, function (error) {
          todayNotice(error.message, false);
        }).then(loadToday);
    });
    return button;
  }

  function renderToday(data) {
    var rows = $('today-rows');
    rows.textContent = '';
    var live = 0;
    data.items.forEach(function (item) {
      var tr = document.createElement('tr');
      tr.setAttribute('data-redemption', item.redemption_id);
      var cancelled = item.status === 'cancelled';
      if (cancelled) { tr.className = 'cancelled'; } else { live += 1; }
      tr.appendChild(cell(item.redeemed_at.slice(11, 19), 'time'));
      tr.appendChild(cell(item.offer_title));
      tr.appendChild(cell(item.branch_name));
      tr.appendChild(cell(cancelled ? '已撤销' : '已核销', cancelled ? 'status-cancelled' : 'status-redeemed'));
      var action = document.createElement('td');
      if (item.cancellable_until) { action.appendChild(cancelButton(item)); }
      tr.appendChild(action);
      rows.appendChild(tr);
    });
    $('today-empty').hidden = data.items.length > 0;
    $('today-summary').textContent = data.day + ' · 本终端 ' + data.total + ' 笔' +
      (data.total > live ? '（有效 ' + live + (data.items.length < data.total ? '+' : '') + ' 笔）' : '');
  }

  function loadToday() {
    return api('/me/redemptions').then(renderToday, function (error) {
      if (error.status !== 401) { todayNotice(error.message, false); }
    });
  }

  // -- the desk ------------------------------------------------------------------------------------------------

  function openDesk(answer) {
    home = answer;
    $('merchant-name').textContent = answer.merchant_name;
    $('terminal-name').textContent = answer.terminal_name;
    $('signin').hidden = true;
    $('who').hidden = false;
    $('desk').hidden = false;
    fillBranches();
    fillOffers();
    showResult('idle', '请扫描顾客的信用码', '', '顾客在“信用分”小程序中出示信用码，对准摄像头或用扫码枪扫描。');
    loadToday();
    if (todayTimer) { window.clearInterval(todayTimer); }
    todayTimer = window.setInterval(loadToday, TODAY_REFRESH_MS);
    if (store.get(CAMERA) === 'on') { startCamera(); }
    $('code-input').focus();
  }

  function start() {
    $('signin-form').addEventListener('submit', onSignIn);
    $('signout').addEventListener('click', function () { signOut(''); });
    $('code-form').addEventListener('submit', onCodeSubmit);
    $('camera-toggle').addEventListener('click', onCameraToggle);
    $('branch').addEventListener('change', function () {
      store.set(BRANCH, $('branch').value);
      fillOffers();
    });
    $('offer').addEventListener('change', function () {
      store.set(OFFER, $('offer').value);
      $('code-input').focus();
    });
    if (!store.get(KEY)) { showSignIn(''); return; }
    api('/me').then(openDesk, function (error) {
      if (error.status !== 401) { showSignIn(error.message); }
    });
  }

  start();
}());
