// The error notice every page shows: the API's Chinese message, and a way on (retry, sign in again, contact).
Component({
  properties: {error: {type: Object, value: null}},
  methods: {
    onRetry() {
      this.triggerEvent('retry')
    },
    onRebind() {
      wx.reLaunch({url: '/pages/login/login'})
    },
    onClose() {
      this.triggerEvent('close')
    },
  },
})
