// Every call of the app goes through this module and its one table of endpoints.
const config = require('../config.js')

// name → method, path ({name} filled from params), body: the fields every such call sends, optional: fields sent
// when they have a value,
// auth: false for the calls made before there is a token. `upload` sends one file (wx.uploadFile) under that
// field name.
const ENDPOINTS = {
  login: {method: 'POST', path: '/mp/v1/session', body: ['code'], auth: false},
  refresh: {method: 'POST', path: '/mp/v1/session/refresh', body: ['refresh_token'], auth: false},
  logout: {method: 'DELETE', path: '/mp/v1/session', body: ['refresh_token']},
  clientSettings: {method: 'GET', path: '/mp/v1/client-settings', auth: false},
  binding: {method: 'GET', path: '/mp/v1/binding'},
  bind: {method: 'POST', path: '/mp/v1/binding', body: ['name', 'id_number', 'phone', 'scoring_consent']},
  unbind: {method: 'DELETE', path: '/mp/v1/binding'},
  me: {method: 'GET', path: '/mp/v1/me'},
  score: {method: 'GET', path: '/mp/v1/me/score'},
  history: {method: 'GET', path: '/mp/v1/me/score/history'},
  records: {method: 'GET', path: '/mp/v1/me/records'},
  record: {method: 'GET', path: '/mp/v1/me/records/{ref}'},
  hints: {method: 'GET', path: '/mp/v1/me/hints'},
  consents: {method: 'GET', path: '/mp/v1/me/consents'},
  grantConsent: {method: 'PUT', path: '/mp/v1/me/consents/{kind}'},
  withdrawConsent: {method: 'DELETE', path: '/mp/v1/me/consents/{kind}'},
  audit: {method: 'GET', path: '/mp/v1/me/audit'},
  offers: {method: 'GET', path: '/mp/v1/me/offers'},
  creditCode: {method: 'POST', path: '/mp/v1/me/credit-code'},
  redemptions: {method: 'GET', path: '/mp/v1/me/redemptions'},
  attestations: {method: 'GET', path: '/mp/v1/me/attestations'},
  issueAttestation: {method: 'POST', path: '/mp/v1/me/attestations', body: ['partner']},
  revokeAttestation: {method: 'POST', path: '/mp/v1/me/attestations/{jti}/revoke'},
  commitmentTypes: {method: 'GET', path: '/mp/v1/me/commitment-types'},
  commitments: {method: 'GET', path: '/mp/v1/me/commitments'},
  makeCommitment: {method: 'POST', path: '/mp/v1/me/commitments', body: ['type', 'text_version', 'accepted']},
  commitment: {method: 'GET', path: '/mp/v1/me/commitments/{ref}'},
  whatIf: {method: 'POST', path: '/mp/v1/me/what-if', body: ['changes']},
  voluntaryTypes: {method: 'GET', path: '/mp/v1/me/voluntary-reports/types'},
  voluntaryReports: {method: 'GET', path: '/mp/v1/me/voluntary-reports'},
  submitVoluntary: {method: 'POST', path: '/mp/v1/me/voluntary-reports',
    body: ['type', 'occurred_at', 'issuer', 'commitment_version', 'commitment_accepted'],
    optional: ['quantity', 'certificate_no', 'description', 'evidence_ids']},
  uploadEvidence: {method: 'POST', path: '/mp/v1/me/evidence', upload: 'file'},
  fileObjection: {method: 'POST', path: '/mp/v1/me/objections',
    body: ['record', 'reason_code', 'reason_text'], optional: ['evidence_ids']},
  withdrawObjection: {method: 'POST', path: '/mp/v1/me/objections/{ref}/withdraw'},
  repairPreview: {method: 'GET', path: '/mp/v1/me/repairs/preview'},
  applyRepair: {method: 'POST', path: '/mp/v1/me/repairs',
    body: ['record', 'statement', 'commitment_version', 'commitment_accepted'], optional: ['evidence_ids']},
  cases: {method: 'GET', path: '/mp/v1/me/cases'},
  case: {method: 'GET', path: '/mp/v1/me/cases/{ref}'},
  messages: {method: 'GET', path: '/mp/v1/me/messages'},
  unreadCount: {method: 'GET', path: '/mp/v1/me/messages/unread-count'},
  message: {method: 'GET', path: '/mp/v1/me/messages/{ref}'},
  markRead: {method: 'POST', path: '/mp/v1/me/messages/read', body: ['refs']},
  subscriptions: {method: 'GET', path: '/mp/v1/me/message-subscriptions'},
  subscribe: {method: 'POST', path: '/mp/v1/me/message-subscriptions', body: ['templates']},
}

const SESSION_KEY = 'session'
const NETWORK_MESSAGE = '网络连接失败，请检查网络后重试（已填写的内容不会丢失）。'

class ApiError extends Error {
  constructor({status = 0, code = 'network_error', message = NETWORK_MESSAGE, errors = null} = {}) {
    super(message)
    this.status = status
    this.code = code
    this.errors = errors || {}
    this.network = status === 0
  }

  // What the person can do next, shown beside the message.
  get way() {
    if (this.network || this.status >= 500) return 'retry'
    if (this.status === 401 || this.code === 'not_bound' || this.code === 'binding_required') return 'rebind'
    if (this.status === 429 || this.code === 'too_many_attempts') return 'wait'
    if (this.status === 403 || this.status === 409) return 'contact'
    return 'fix'
  }
}

function session() {
  return wx.getStorageSync(SESSION_KEY) || null
}

function saveSession(value) {
  if (value) wx.setStorageSync(SESSION_KEY, value)
  else wx.removeStorageSync(SESSION_KEY)
}

function buildUrl(endpoint, params = {}, query = null) {
  let path = endpoint.path.replace(/\{(\w+)\}/g, (_, name) => {
    if (params[name] === undefined || params[name] === null) throw new Error(`missing path parameter ${name}`)
    return encodeURIComponent(params[name])
  })
  if (query) {
    const pairs = Object.keys(query)
      .filter((key) => query[key] !== undefined && query[key] !== null && query[key] !== '')
      .map((key) => `${encodeURIComponent(key)}=${encodeURIComponent(query[key])}`)
    if (pairs.length) path += `?${pairs.join('&')}`
  }
  return config.apiBase.replace(/\/$/, '') + path
}

function bodyFor(name, endpoint, body) {
  if (!endpoint.body) return undefined
  const sent = {}
  for (const field of endpoint.body) {
    if (!body || !(field in body)) throw new Error(`${name}: body field ${field} missing`)
    sent[field] = body[field]
  }
  for (const field of endpoint.optional || []) {
    const value = body[field]
    if (value !== undefined && value !== null && value !== '' && !(Array.isArray(value) && !value.length)) {
      sent[field] = value
    }
  }
  const unknown = Object.keys(body || {}).filter((f) => !endpoint.body.includes(f) && !(endpoint.optional || []).includes(f))
  if (unknown.length) throw new Error(`${name}: body fields not in the endpoint table: ${unknown.join(', ')}`)
  return sent
}

function toError(res) {
  const data = typeof res.data === 'string' ? safeJson(res.data) : res.data
  if (data && data.message) {
    return new ApiError({status: res.statusCode, code: data.code, message: data.message, errors: data.errors})
  }
  return new ApiError({status: res.statusCode, code: `http_${res.statusCode}`,
    message: res.statusCode >= 500 ? '服务暂时不可用，请稍后重试。' : '请求未成功，请稍后重试。'})
}

function safeJson(text) {
  try {
    return JSON.parse(text)
  } catch (error) {
    return null
  }
}

function send(endpoint, url, data, token) {
  return new Promise((resolve) => {
    const header = {'Content-Type': 'application/json'}
    if (token) header.Authorization = `Bearer ${token}`
    wx.request({
      url, method: endpoint.method, data, header, timeout: 15000,
      success: (res) => resolve(res),
      fail: () => resolve(null),
    })
  })
}

function sendFile(endpoint, url, filePath, token) {
  return new Promise((resolve) => {
    wx.uploadFile({
      url, filePath, name: endpoint.upload, header: token ? {Authorization: `Bearer ${token}`} : {},
      timeout: 30000,
      success: (res) => resolve({statusCode: res.statusCode, data: safeJson(res.data) || res.data}),
      fail: () => resolve(null),
    })
  })
}

let refreshing = null

async function refreshSession() {
  const current = session()
  if (!current || !current.refresh_token) return false
  if (!refreshing) {
    refreshing = (async () => {
      const endpoint = ENDPOINTS.refresh
      const res = await send(endpoint, buildUrl(endpoint), {refresh_token: current.refresh_token})
      if (res && res.statusCode === 200) {
        saveSession({...current, ...res.data})
        return true
      }
      saveSession(null)
      return false
    })().finally(() => {
      refreshing = null
    })
  }
  return refreshing
}

// call('score') / call('case', {params: {ref}}) / call('bind', {body: {...}}) → the answer's body.
async function call(name, {params, query, body, filePath} = {}) {
  const endpoint = ENDPOINTS[name]
  if (!endpoint) throw new Error(`unknown endpoint ${name}`)
  const url = buildUrl(endpoint, params, query)
  const data = bodyFor(name, endpoint, body)
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const token = endpoint.auth === false ? null : (session() || {}).access_token
    const res = endpoint.upload ? await sendFile(endpoint, url, filePath, token) : await send(endpoint, url, data, token)
    if (!res) throw new ApiError()
    if (res.statusCode >= 200 && res.statusCode < 300) return res.data === '' ? null : res.data
    if (res.statusCode === 401 && attempt === 0 && endpoint.auth !== false && (await refreshSession())) continue
    throw toError(res)
  }
  throw new ApiError()
}

function wxLogin() {
  return new Promise((resolve, reject) => {
    wx.login({success: (res) => resolve(res.code), fail: () => reject(new ApiError())})
  })
}

// Signs in with wx.login when there is no session yet; answers whether the account is bound to a person.
async function ensureSession() {
  const current = session()
  if (current && current.access_token) {
    try {
      const status = await call('binding')
      return status.bound
    } catch (error) {
      if (error.network) throw error
      saveSession(null)
    }
  }
  const code = await wxLogin()
  const answer = await call('login', {body: {code}})
  saveSession(answer)
  return answer.bound
}

async function signOut() {
  const current = session()
  if (current && current.refresh_token) {
    try {
      await call('logout', {body: {refresh_token: current.refresh_token}})
    } catch (error) {
      // The token dies with its TTL anyway; leaving this device signed out is what matters.
    }
  }
  saveSession(null)
}

let settings = null

// What the server says the app needs (template ids, consent texts and versions, evidence limits), read once.
async function clientSettings() {
  if (!settings) settings = await call('clientSettings')
  return settings
}

module.exports = {ENDPOINTS, ApiError, call, ensureSession, signOut, clientSettings, saveSession, session,
  NETWORK_MESSAGE}
