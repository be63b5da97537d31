// The stand-in container page: lists the demo citizens, keeps the choice (and 长辈版) for the fake bridge, opens
// the app the way 浙里办 would.
(function () {
  var KEY = 'zlbStandin';
  var list = document.getElementById('citizens');
  var elder = document.getElementById('elder');
  var open = document.getElementById('open');
  var status = document.getElementById('status');
  var chosen = null;

  function choose(handle, row) {
    chosen = handle;
    Array.prototype.forEach.call(list.querySelectorAll('li'), function (li) { li.classList.remove('chosen'); });
    row.classList.add('chosen');
    open.disabled = false;
  }

  fetch('../demo/citizens').then(function (response) {
    if (!response.ok) throw new Error('演示居民列表不可用（' + response.status + '）');
    return response.json();
  }).then(function (body) {
    var citizens = Array.isArray(body) ? body : (body.citizens || body.items || []);
    list.innerHTML = '';
    citizens.forEach(function (c) {
      var li = document.createElement('li');
      li.setAttribute('role', 'button');
      li.setAttribute('tabindex', '0');
      li.dataset.handle = c.handle;
      var name = document.createElement('span');
      name.className = 'name';
      name.textContent = c.name || c.masked_name || c.handle;
      var level = document.createElement('span');
      level.className = 'level';
      level.textContent = [c.level_name, c.note].filter(Boolean).join(' · ');
      li.appendChild(name);
      li.appendChild(level);
      li.addEventListener('click', function () { choose(c.handle, li); });
      list.appendChild(li);
    });
    status.textContent = citizens.length ? '请选择一位演示居民' : '没有演示居民：请先运行 flask --app wsgi demo serve';
  }).catch(function (error) { status.textContent = error.message; });

  open.addEventListener('click', function () {
    if (!chosen) return;
    window.localStorage.setItem(KEY, JSON.stringify({ handle: chosen, uiStyle: elder.checked ? 'elder' : 'normal' }));
    // A fresh sign-in every time the app is opened from the container, as 浙里办 does.
    window.sessionStorage.removeItem('zlb.session');
    window.location.href = '../?zlb=standin#/start';
  });
})();
