// The 浙里办 container: ZWJSBridge (sign-on ticket, 长辈版 style, location) and the zwlog analytics script.
// Both exist only inside 浙里办, so they are loaded from a script tag there and nowhere else.
import { config } from './config.js'

function userAgent() {
  return (navigator.userAgent || '').toLowerCase()
}

// The demo's container page opens the app with ?zlb=standin (see the README); it serves a fake bridge.
export function isStandin() {
  return new URLSearchParams(location.search).get('zlb') === 'standin'
}

export function insideZlb() {
  const ua = userAgent()
  const zlbApp = ua.includes('dtdreamweb')
  const alipayMini = ua.includes('miniprogram') && ua.includes('alipay')
  const wechatMini = window.__wxjs_environment === 'miniprogram'
  return zlbApp || alipayMini || wechatMini || isStandin()
}

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const tag = document.createElement('script')
    tag.src = src
    tag.async = true
    tag.onload = () => resolve()
    tag.onerror = () => reject(new Error(`无法加载 ${src}`))
    document.head.appendChild(tag)
  })
}

let bridgeReady = null

// Resolves to window.ZWJSBridge inside 浙里办 (ready), to null elsewhere.
export function bridge() {
  if (bridgeReady) return bridgeReady
  if (!insideZlb()) {
    bridgeReady = Promise.resolve(null)
    return bridgeReady
  }
  const src = isStandin() ? config.standinBridgeScript : config.bridgeScript
  bridgeReady = (window.ZWJSBridge ? Promise.resolve() : loadScript(src))
    .then(() => new Promise((resolve) => {
      const zw = window.ZWJSBridge
      if (!zw) return resolve(null)
      if (typeof zw.onReady === 'function') zw.onReady(() => resolve(zw))
      else resolve(zw)
    }))
    .catch(() => null)
  return bridgeReady
}

// A fresh sign-on ticket from the container, or null outside 浙里办.
export async function ssoTicket() {
  const zw = await bridge()
  if (!zw) return null
  const answer = await zw.ssoTicket({})
  if (answer && answer.result !== false && answer.ticketId) return answer.ticketId
  return null
}

// 'elder' (长辈版) or 'normal'.
export async function uiStyle() {
  const zw = await bridge()
  if (!zw || typeof zw.getUiStyle !== 'function') return 'normal'
  try {
    const answer = await zw.getUiStyle({})
    return answer && answer.uiStyle === 'elder' ? 'elder' : 'normal'
  } catch {
    return 'normal'
  }
}

// {latitude, longitude, source}: the container's location, else the browser's, else the city centre.
export async function locate() {
  const zw = await bridge()
  if (zw && typeof zw.getLocation === 'function') {
    try {
      const where = await zw.getLocation({})
      if (where && where.latitude && where.longitude) {
        return { latitude: Number(where.latitude), longitude: Number(where.longitude), source: 'container' }
      }
    } catch { /* fall through to the browser */ }
  }
  if (navigator.geolocation) {
    const where = await new Promise((resolve) => {
      navigator.geolocation.getCurrentPosition(
        (pos) => resolve({ latitude: pos.coords.latitude, longitude: pos.coords.longitude, source: 'browser' }),
        () => resolve(null), { timeout: 5000, maximumAge: 60000 })
    })
    if (where) return where
  }
  return { ...config.cityCentre, source: 'city' }
}

export async function setTitle(title) {
  document.title = title
  const zw = await bridge()
  if (zw && typeof zw.setTitle === 'function') zw.setTitle({ title }).catch?.(() => {})
}

let zwlog = null

// Page views go to 浙里办's analytics only when its script is there (inside 浙里办).
export async function reportPageView(pageId, pageName) {
  if (!insideZlb()) return
  try {
    if (!zwlog) {
      if (!window.ZwLog) await loadScript(isStandin() ? 'standin/zwlog.js' : config.zwlogScript)
      if (!window.ZwLog) return
      zwlog = new window.ZwLog({ _user_id: '', _user_nick: '' })
    }
    const send = () => zwlog.sendPV({ miniAppId: config.miniAppId, pageId, pageName, Page_duration: '', t2: '' })
    if (typeof zwlog.onReady === 'function') zwlog.onReady(send)
    else send()
  } catch { /* analytics must never break a page */ }
}
