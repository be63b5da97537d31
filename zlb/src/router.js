import { createRouter, createWebHashHistory } from 'vue-router'
import { session } from './api.js'
import { reportPageView, setTitle } from './bridge.js'

const page = (file) => () => import(`./pages/${file}.vue`)

// 浙里办 requires hash routing. `tab` marks the four pages of the tab bar.
const routes = [
  { path: '/', redirect: '/home' },
  { path: '/start', name: 'start', component: page('Start'), meta: { title: '绍兴信用分', open: true } },
  { path: '/consent', name: 'consent', component: page('Consent'), meta: { title: '授权信用评分' } },
  { path: '/home', name: 'home', component: page('Home'), meta: { title: '绍兴信用分', tab: true } },
  { path: '/records', name: 'records', component: page('Records'), meta: { title: '信用记录' } },
  { path: '/record', name: 'record', component: page('RecordDetail'), meta: { title: '记录详情' } },
  { path: '/objection', name: 'objection', component: page('Objection'), meta: { title: '提出异议' } },
  { path: '/repair', name: 'repair', component: page('Repair'), meta: { title: '申请信用修复' } },
  { path: '/cases', name: 'cases', component: page('Cases'), meta: { title: '我的申请' } },
  { path: '/case', name: 'case', component: page('CaseDetail'), meta: { title: '申请详情' } },
  { path: '/commitments', name: 'commitments', component: page('Commitments'), meta: { title: '信用承诺' } },
  { path: '/commitment', name: 'commitment', component: page('CommitmentMake'), meta: { title: '作出承诺' } },
  { path: '/voluntary', name: 'voluntary', component: page('Voluntary'), meta: { title: '自愿注册' } },
  { path: '/code', name: 'code', component: page('CreditCode'), meta: { title: '信用码' } },
  { path: '/offers', name: 'offers', component: page('Offers'), meta: { title: '信易+权益', tab: true } },
  { path: '/messages', name: 'messages', component: page('Messages'), meta: { title: '消息', tab: true } },
  { path: '/mine', name: 'mine', component: page('Mine'), meta: { title: '我的', tab: true } },
  { path: '/consents', name: 'consents', component: page('Consents'), meta: { title: '我的授权' } },
  { path: '/audit', name: 'audit', component: page('Audit'), meta: { title: '谁查看了我的信用信息' } },
  { path: '/attestations', name: 'attestations', component: page('Attestations'), meta: { title: '互认证明' } },
  { path: '/redemptions', name: 'redemptions', component: page('Redemptions'), meta: { title: '权益使用记录' } },
  { path: '/:rest(.*)*', redirect: '/home' },
]

export const router = createRouter({ history: createWebHashHistory(), routes })

router.beforeEach((to) => {
  if (!to.meta.open && !session.token()) return { name: 'start', query: { next: to.fullPath } }
  return true
})

router.afterEach((to) => {
  setTitle(to.meta.title || '绍兴信用分')
  reportPageView(String(to.name || to.path), to.meta.title || '')
})
