// Shared by every page: 长辈模式 (font scale from WeChat's setting, or the 大字模式 switch) and the error notice.
const elder = require('../utils/elder.js')

module.exports = Behavior({
  data: {elder: false, fontScale: 1, error: null, loading: false},
  lifetimes: {
    attached() {
      this.setData(elder.state())
    },
  },
  pageLifetimes: {
    show() {
      this.setData(elder.state())
    },
  },
  methods: {
    // Shows the API's own Chinese message and what to do next; the form's fields keep what was typed.
    showError(error) {
      const way = error.way || 'retry'
      const hint = {
        retry: '请稍后点“重试”。',
        rebind: '请重新登录并绑定身份。',
        wait: '请稍后再试。',
        contact: '如有疑问，请拨打 12345 或到信用中心窗口咨询。',
        fix: '请按提示修改后再提交。',
      }[way]
      this.setData({error: {message: error.message || '操作未成功。', hint, way, code: error.code || ''},
        loading: false})
    },
    clearError() {
      this.setData({error: null})
    },
    go(event) {
      const url = event.currentTarget.dataset.url
      if (!url) return
      const tabs = ['/pages/home/home', '/pages/offers/offers', '/pages/messages/messages', '/pages/mine/mine']
      if (tabs.includes(url)) wx.switchTab({url})
      else wx.navigateTo({url})
    },
    onRebind() {
      wx.reLaunch({url: '/pages/login/login'})
    },
  },
})
