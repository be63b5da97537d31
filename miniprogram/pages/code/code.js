// 信用码: the QR of a fresh code (drawn here from the code string), a countdown, automatic renewal, and the
// screen made bright while it shows (restored on leave). When the code cannot be issued, the reason instead.
const api = require('../../api/index.js')
const page = require('../../behaviors/page.js')
const qr = require('../../utils/qr.js')

Component({
  behaviors: [page],
  data: {qr: '', levelName: '', secondsLeft: 0, refusal: ''},
  lifetimes: {
    detached() {
      this.leave()
    },
  },
  methods: {
    onLoad() {
      this.__pending = this.enter()
      return this.__pending
    },
    onShow() {
      if (this.left) this.__pending = this.enter()
    },
    onHide() {
      this.leave()
    },
    onUnload() {
      this.leave()
    },
    async enter() {
      this.left = false
      wx.getScreenBrightness({success: (res) => {
        this.savedBrightness = res.value
        wx.setScreenBrightness({value: 1})
      }})
      wx.setKeepScreenOn({keepScreenOn: true})
      await this.renew()
      if (!this.left && this.data.qr && !this.timer) this.timer = setInterval(() => this.tick(), 1000)
    },
    leave() {
      if (this.left) return
      this.left = true
      clearInterval(this.timer)
      this.timer = null
      if (this.savedBrightness !== undefined) wx.setScreenBrightness({value: this.savedBrightness})
      wx.setKeepScreenOn({keepScreenOn: false})
    },
    onRenew() {
      this.__pending = this.renew()
      return this.__pending
    },
    async renew() {
      if (this.renewing) return
      this.renewing = true
      try {
        const answer = await api.call('creditCode')
        this.expiresAt = Date.now() + answer.expires_in * 1000
        this.setData({qr: qr.dataUrl(answer.code), levelName: answer.level_name, refusal: '', error: null,
          secondsLeft: answer.expires_in})
      } catch (error) {
        if (error.status === 403 || error.status === 409) {
          clearInterval(this.timer)
          this.timer = null
          this.setData({refusal: error.message, qr: ''})
        } else {
          this.showError(error)
        }
      } finally {
        this.renewing = false
      }
    },
    tick() {
      if (!this.data.qr) return
      const left = Math.max(0, Math.ceil((this.expiresAt - Date.now()) / 1000))
      this.setData({secondsLeft: left})
      if (left <= 0) this.__pending = this.renew()
    },
  },
})
