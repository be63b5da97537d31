// Before each test file: miniprogram-simulate's globals, then a device stand-in for the WeChat client: wx.request,
// wx.uploadFile and wx.login go to the real demo server over HTTP (the server's WeChat stand-in accepts any login
// code); storage, navigation, the camera roll, location, brightness and the subscription dialog are scripted
// and recorded in `device` so a test can say what the person did and see what the app asked for.
require('miniprogram-simulate')
const fs = require('fs')
const http = require('http')
const path = require('path')

const config = require('../../config.js')

config.apiBase = process.env.XYF_MP_BASE

const device = {
  storage: new Map(),
  loginCode: null,
  calls: [], // [name, options] of every platform API the app used
  chooseMedia: null, // the files the person picks: [{tempFilePath, fileType, size}]
  location: {latitude: 30.0, longitude: 120.58},
  subscribeAnswer: {}, // template id → 'accept' | 'reject'
  brightness: 0.4,
  fontScale: 1,
  requests: [], // [method, path, body] of every HTTP call
  offline: false,
}

function called(name) {
  return device.calls.filter(([n]) => n === name).map(([, options]) => options)
}

function record(name, result) {
  return (options = {}) => {
    device.calls.push([name, options])
    const value = typeof result === 'function' ? result(options) : result
    const callbacks = typeof options === 'object' && (options.success || options.fail || options.complete)
    if (value instanceof Error) {
      if (options.fail) options.fail({errMsg: `${name}:fail ${value.message}`})
      if (options.complete) options.complete({})
      return callbacks ? undefined : Promise.reject(value)
    }
    if (options.success) options.success(value || {errMsg: `${name}:ok`})
    if (options.complete) options.complete(value || {})
    return Promise.resolve(value || {errMsg: `${name}:ok`})
  }
}

function httpCall(method, url, headers, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {method, headers, agent: false}, (res) => {
      const chunks = []
      res.on('data', (chunk) => chunks.push(chunk))
      res.on('end', () => resolve({statusCode: res.statusCode, header: res.headers,
        text: Buffer.concat(chunks).toString('utf8')}))
    })
    req.on('error', reject)
    if (body) req.write(body)
    req.end()
  })
}

function parse(text, contentType) {
  if (contentType && contentType.includes('json')) {
    try {
      return JSON.parse(text)
    } catch (error) {
      return text
    }
  }
  return text
}

Object.assign(global.wx, {
  getStorageSync: (key) => (device.storage.has(key) ? device.storage.get(key) : ''),
  setStorageSync: (key, value) => device.storage.set(key, JSON.parse(JSON.stringify(value))),
  removeStorageSync: (key) => device.storage.delete(key),
  login: record('login', () => ({code: device.loginCode, errMsg: 'login:ok'})),
  request(options) {
    const method = (options.method || 'GET').toUpperCase()
    const body = method === 'GET' || options.data === undefined ? undefined : JSON.stringify(options.data)
    const {pathname, search} = new URL(options.url)
    device.requests.push([method, pathname + search, options.data])
    if (device.offline) {
      setTimeout(() => options.fail && options.fail({errMsg: 'request:fail'}), 0)
      return {abort() {}}
    }
    const headers = {...(options.header || {})}
    if (body) headers['Content-Length'] = Buffer.byteLength(body)
    httpCall(method, options.url, headers, body).then(
      (res) => options.success && options.success({statusCode: res.statusCode, header: res.header,
        data: parse(res.text, res.header['content-type'])}),
      () => options.fail && options.fail({errMsg: 'request:fail'}))
    return {abort() {}}
  },
  uploadFile(options) {
    // multipart/form-data with the one file, as WeChat sends it; the answer's body stays a string
    const boundary = `----wxupload${Date.now()}`
    const content = fs.readFileSync(options.filePath)
    const parts = []
    for (const [key, value] of Object.entries(options.formData || {})) {
      parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${key}"\r\n\r\n${value}\r\n`))
    }
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${options.name}"; ` +
      `filename="${path.basename(options.filePath)}"\r\nContent-Type: application/octet-stream\r\n\r\n`))
    parts.push(content, Buffer.from(`\r\n--${boundary}--\r\n`))
    const body = Buffer.concat(parts)
    const {pathname} = new URL(options.url)
    device.requests.push(['UPLOAD', pathname, path.basename(options.filePath)])
    if (device.offline) {
      setTimeout(() => options.fail && options.fail({errMsg: 'uploadFile:fail'}), 0)
      return {abort() {}}
    }
    httpCall('POST', options.url, {...(options.header || {}), 'Content-Type': `multipart/form-data; boundary=${boundary}`,
      'Content-Length': body.length}, body).then(
      (res) => options.success && options.success({statusCode: res.statusCode, data: res.text}),
      () => options.fail && options.fail({errMsg: 'uploadFile:fail'}))
    return {abort() {}}
  },
  getAppBaseInfo: () => ({SDKVersion: '3.4.0', language: 'zh_CN', fontSizeScaleFactor: device.fontScale,
    fontSizeSetting: 16 * device.fontScale}),
  navigateTo: record('navigateTo'),
  redirectTo: record('redirectTo'),
  switchTab: record('switchTab'),
  reLaunch: record('reLaunch'),
  navigateBack: record('navigateBack'),
  showToast: record('showToast'),
  setTabBarBadge: record('setTabBarBadge'),
  removeTabBarBadge: record('removeTabBarBadge'),
  getScreenBrightness: record('getScreenBrightness', () => ({value: device.brightness})),
  setScreenBrightness: record('setScreenBrightness'),
  setKeepScreenOn: record('setKeepScreenOn'),
  chooseMedia: record('chooseMedia', () => (device.chooseMedia ? {tempFiles: device.chooseMedia, type: 'image'}
    : new Error('cancel'))),
  getLocation: record('getLocation', () => (device.location ? {...device.location}
    : new Error('auth deny'))),
  requestSubscribeMessage: record('requestSubscribeMessage', (options) => {
    const answer = {errMsg: 'requestSubscribeMessage:ok'}
    for (const id of options.tmplIds) answer[id] = device.subscribeAnswer[id] || 'reject'
    return answer
  }),
  onNeedPrivacyAuthorization: record('onNeedPrivacyAuthorization'),
  requirePrivacyAuthorize: record('requirePrivacyAuthorize'),
  setClipboardData: record('setClipboardData'),
})

global.getCurrentPages = () => []
global.getApp = () => ({globalData: {}})

global.device = device
global.called = called
