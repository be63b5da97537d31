import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import pxtorem from 'postcss-pxtorem'

// Vant's icon font is embedded (woff2 data URI) with a CDN fallback; the app must work without internet and its
// CSP allows no other origin, so the fallback is dropped.
const dropCdnFontFallback = {
  postcssPlugin: 'drop-cdn-font-fallback',
  AtRule: {
    'font-face': (rule) => {
      rule.walkDecls('src', (decl) => {
        decl.value = decl.value.split(/,(?![^(]*\))/).filter((part) => !/url\(\s*['"]?(https?:)?\/\//.test(part)).join(',')
      })
    },
  },
}

// 浙里办 rules: relative asset paths (the app is listed under a path we do not choose) and the build in build/.
// Every px in our CSS and Vant's becomes rem, so 长辈版 enlarges type and touch targets by raising the root font
// size alone (vw units would ignore it).
export default defineConfig({
  base: './',
  plugins: [vue()],
  css: {
    postcss: {
      plugins: [dropCdnFontFallback, pxtorem({ rootValue: 16, propList: ['*'], minPixelValue: 2 })],
    },
  },
  build: {
    outDir: 'build',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1200,
  },
  server: {
    proxy: { '/zlb/v1': 'http://127.0.0.1:5000', '/zlb/demo': 'http://127.0.0.1:5000' },
  },
})
