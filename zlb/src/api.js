// The one module that talks to the backend. Every operation is a row of endpoints.json (name → method and path;
// ids travel in the query or the body, never in the path, because 浙里办's gateway forwards no path parameters).
// Inside 浙里办 the calls go through the gateway (mgop: each API is registered there under the name
// `<prefix>.<operation>`); elsewhere (the demo, a browser) through plain fetch. The session token always travels in
// the Authorization header: the gateway carries no cookies.
import { mgop } from '@aligov/jssdk-mgop'
import endpoints from './endpoints.json'
import { config } from './config.js'
import { insideZlb, isStandin } from './bridge.js'

const TOKEN_KEY = 'zlb.session'

export class ApiError extends Error {
  constructor(status, code, message, errors) {
    super(message || '服务暂时不可用，请稍后再试')
    this.status = status
    this.code = code
    this.errors = errors
  }
}

export const session = {
  get() {
    try { return JSON.parse(sessionStorage.getItem(TOKEN_KEY) || 'null') } catch { return null }
  },
  set(value) { sessionStorage.setItem(TOKEN_KEY, JSON.stringify(value)) },
  clear() { sessionStorage.removeItem(TOKEN_KEY) },
  token() { return this.get()?.access_token || null },
}

// Through the gateway only inside the real container with a registered app key; the demo's stand-in container
// and plain browsers call the API directly.
function viaGateway() {
  return insideZlb() && !isStandin() && Boolean(config.mgopAppKey)
}

function headers() {
  const token = session.token()
  return token ? { Authorization: `Bearer ${token}` } : {}
}

function queryString(query) {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== '') params.append(key, String(value))
  }
  const text = params.toString()
  return text ? `?${text}` : ''
}

async function viaFetch(endpoint, { query, body, file }) {
  const init = { method: endpoint.method, headers: headers() }
  if (file) {
    const form = new FormData()
    form.append('file', file, file.name || 'photo.jpg')
    init.body = form
  } else if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json'
    init.body = JSON.stringify(body)
  }
  let response
  try {
    response = await fetch(config.apiBase + endpoint.path + queryString(query), init)
  } catch {
    throw new ApiError(0, 'network', '网络连接失败，请检查网络后重试')
  }
  if (response.status === 204) return null
  let data = null
  try { data = await response.json() } catch { data = null }
  if (!response.ok) {
    throw new ApiError(response.status, data?.code || 'http_error',
      data?.message || `服务暂时不可用（${response.status}），请稍后再试`, data?.errors)
  }
  return data
}

function viaMgop(name, endpoint, { query, body }) {
  return new Promise((resolve, reject) => {
    mgop({
      api: `${endpoint.mgop || `mgop.sx.xyf.${name}`}`,
      host: config.mgopHost,
      appKey: config.mgopAppKey,
      dataType: 'JSON',
      type: endpoint.method,
      data: { ...(query || {}), ...(body || {}) },
      header: headers(),
      onSuccess: (answer) => resolve(answer?.data ?? null),
      // The gateway reports a failure as ret: ['CODE::message'], or passes our JSON error body on as data.
      onFail: (failure) => {
        const data = failure?.data || {}
        const [code, message] = String((failure?.ret || [])[0] || '').split('::')
        reject(new ApiError(data.status || 0, data.code || code || 'gateway',
          data.message || message || '网关调用失败，请稍后再试', data.errors))
      },
    })
  })
}

// call('records', { query: { dimension: 'law' } }) → the answer's JSON; throws ApiError with the server's
// Chinese message on a refusal.
let onSignedOut = () => {}
export function whenSignedOut(handler) { onSignedOut = handler }

export async function call(name, options = {}) {
  const endpoint = endpoints[name]
  if (!endpoint) throw new Error(`unknown endpoint ${name}`)
  const token = session.token()
  try {
    // The gateway cannot carry a file: uploads always go straight to our API host.
    if (viaGateway() && !endpoint.upload) return await viaMgop(name, endpoint, options)
    return await viaFetch(endpoint, options)
  } catch (error) {
    // A refused token signs in again (a fresh ticket from the container) — once, however many calls were
    // refused, and never dropping a session that a newer sign-in has already replaced.
    if (error.status === 401 && name !== 'session' && token && session.token() === token) {
      session.clear()
      onSignedOut()
    }
    throw error
  }
}

export { endpoints }
