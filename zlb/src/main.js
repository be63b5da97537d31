import { createApp } from 'vue'
import 'vant/lib/index.css'
import './style.css'
import Vant from 'vant'
import App from './App.vue'
import { router } from './router.js'
import { uiStyle } from './bridge.js'
import { whenSignedOut } from './api.js'

// 长辈版: the container says 'elder'; every size is in rem (postcss-pxtorem), so the root font size scales
// type and touch targets together.
function applyUiStyle(style) {
  document.documentElement.dataset.ui = style
}

whenSignedOut(() => {
  const current = router.currentRoute.value
  if (current.name !== 'start') router.replace({ name: 'start', query: { next: current.fullPath } })
})

uiStyle().then(applyUiStyle).finally(() => {
  createApp(App).use(router).use(Vant).mount('#app')
})
