// The app's endpoint table against the served /openapi.json: every method and path exists, every required body
// field is sent, every field sent is documented.
const fs = require('fs')
const path = require('path')
const {server, ROOT} = require('./harness/app.js')
const {ENDPOINTS} = require('../api/index.js')

let spec

beforeAll(async () => {
  const res = await server('GET', '/openapi.json')
  expect(res.status).toBe(200)
  spec = res.data
})

function resolve(schema) {
  if (schema && schema.$ref) return spec.components.schemas[schema.$ref.split('/').pop()]
  return schema
}

function operation(endpoint) {
  const item = spec.paths[endpoint.path]
  return item && item[endpoint.method.toLowerCase()]
}

test.each(Object.entries(ENDPOINTS))('%s is served as the table says', (name, endpoint) => {
  const op = operation(endpoint)
  expect(op).toBeTruthy()
  const content = (op.requestBody && op.requestBody.content) || {}
  const sent = [...(endpoint.body || []), ...(endpoint.optional || []), ...(endpoint.upload ? [endpoint.upload] : [])]
  const media = endpoint.upload ? 'multipart/form-data' : 'application/json'
  if (!sent.length) {
    const schema = content['application/json'] && resolve(content['application/json'].schema)
    expect((schema && schema.required) || []).toEqual([])
    return
  }
  expect(content[media]).toBeTruthy()
  const schema = resolve(content[media].schema)
  for (const field of schema.required || []) expect((endpoint.body || []).concat(endpoint.upload || [])).toContain(field)
  for (const field of sent) expect(Object.keys(schema.properties)).toContain(field)
})

test('every page is declared in app.json and exists with its four files', () => {
  const app = JSON.parse(fs.readFileSync(path.join(ROOT, 'app.json'), 'utf8'))
  for (const page of app.pages) {
    for (const ext of ['js', 'json', 'wxml', 'wxss']) {
      if (ext === 'wxss' && !fs.existsSync(path.join(ROOT, `${page}.wxss`))) continue
      expect(fs.existsSync(path.join(ROOT, `${page}.${ext}`))).toBe(true)
    }
    expect(fs.readFileSync(path.join(ROOT, `${page}.js`), 'utf8')).toMatch(/\bComponent\(/)
  }
  expect(app.tabBar.list.map((t) => t.text)).toEqual(['首页', '权益', '消息', '我的'])
})

// The app's own sources with this extension, relative to ROOT (not the libraries, not the tests).
function sources(ext) {
  const files = []
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, {withFileTypes: true})) {
      if (['node_modules', 'miniprogram_npm', 'tests'].includes(entry.name)) continue
      const full = path.join(dir, entry.name)
      if (entry.isDirectory()) walk(full)
      else if (entry.name.endsWith(ext)) files.push(path.relative(ROOT, full))
    }
  }
  walk(ROOT)
  return files
}

test('every tap target is a button or carries the .tap / .chip class (at least 88rpx high)', () => {
  const wxss = fs.readFileSync(path.join(ROOT, 'app.wxss'), 'utf8')
  expect(wxss).toMatch(/\.tap, button, \.tab, \.chip \{ min-height: 88rpx/)
  for (const file of sources('.wxml').map((f) => path.join(ROOT, f))) {
    const tags = fs.readFileSync(file, 'utf8').match(/<[a-z-]+\b[^>]*\b(bind|catch)tap=[^>]*>/g) || []
    for (const tag of tags) {
      const ok = /^<(button|t-button)\b/.test(tag) || /class="[^"]*\b(tap|chip)\b/.test(tag)
      if (!ok) throw new Error(`${path.relative(ROOT, file)}: a tap target below 88rpx: ${tag}`)
    }
  }
})

test("every WXML and WXSS compiles with WeChat's own compilers (wcc, wcsc)", () => {
  const compiler = require('miniprogram-compiler')
  const wxml = sources('.wxml')
  const wxss = sources('.wxss')
  expect(wxml.length).toBeGreaterThanOrEqual(17)
  expect(() => compiler.wxmlToJs(ROOT, {wxmlList: wxml, wxsList: []})).not.toThrow()
  expect(() => compiler.wxssToJs(ROOT, {wxssList: wxss})).not.toThrow()
})

test('every page the backend links to from a message exists in the app', () => {
  const app = JSON.parse(fs.readFileSync(path.join(ROOT, 'app.json'), 'utf8'))
  const repo = path.resolve(ROOT, '..')
  const links = new Set()
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, {withFileTypes: true})) {
      const full = path.join(dir, entry.name)
      if (entry.isDirectory() && !['__pycache__', 'node_modules'].includes(entry.name)) walk(full)
      else if (entry.name.endsWith('.py')) {
        for (const [, page] of fs.readFileSync(full, 'utf8').matchAll(/"\/(pages\/[a-z_]+\/[a-z_]+)/g)) links.add(page)
      }
    }
  }
  for (const dir of ['app', 'benefits', 'miniprogram_api']) walk(path.join(repo, dir))
  expect(links.size).toBeGreaterThan(0)
  for (const page of links) expect(app.pages).toContain(page)
})
