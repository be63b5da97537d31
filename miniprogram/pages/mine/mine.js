// 我的: the masked profile, 大字模式, consents with their texts (withdrawing scoring consent says what follows
// before it is done), links to records, cases, commitments, who looked at my data, attestations; unbinding.
const api = require('../../api/index.js')
const page = require('../../behaviors/page.js')
const elder = require('../../utils/elder.js')
const {consentOf} = require('../../utils/settings.js')

const CONSEQUENCES = {
  scoring: '撤回后将不再计算和显示您的信用分，信用码和信易+权益随即停用，已出具的城市互认证明将被撤销。您的信用记录仍按规定保存。可随时重新开启授权。',
  partner_sharing: '撤回后不能再向合作城市出具互认证明，已出具的证明将被撤销。',
  raw_score_sharing: '撤回后向合作城市出具的证明只包含信用等级，不再包含分值。',
}

Component({
  behaviors: [page],
  data: {profile: null, consents: [], confirming: null, unbinding: false, bigText: false},
  methods: {
    onLoad() {
      this.setData({bigText: !!wx.getStorageSync('bigText')})
      this.__pending = this.load()
      return this.__pending
    },
    onShow() {
      require('../../utils/badge.js').refresh()
    },
    async load() {
      this.setData({loading: true, error: null})
      try {
        const [profile, consents, settings] = await Promise.all([api.call('me'), api.call('consents'),
          api.clientSettings().catch(() => null)])
        this.setData({profile, loading: false, consents: consents.consents.map((c) => {
          const text = consentOf(settings, c.kind)
          return {...c, text: text ? text.text : '', version: text ? text.version : ''}
        })})
      } catch (error) {
        this.showError(error)
      }
    },
    onBigText() {
      const on = !this.data.bigText
      this.setData({bigText: on, ...elder.setBig(on)})
    },
    onAskWithdraw(event) {
      const kind = event.currentTarget.dataset.kind
      const consent = this.data.consents.find((c) => c.kind === kind)
      this.setData({confirming: {kind, name: consent.name, consequences: CONSEQUENCES[kind] || ''}})
    },
    onCancelWithdraw() {
      this.setData({confirming: null})
    },
    onWithdraw() {
      this.__pending = this.setConsent('withdrawConsent', this.data.confirming.kind)
      return this.__pending
    },
    onGrant(event) {
      this.__pending = this.setConsent('grantConsent', event.currentTarget.dataset.kind)
      return this.__pending
    },
    async setConsent(call, kind) {
      try {
        await api.call(call, {params: {kind}})
        this.setData({confirming: null})
        await this.load()
      } catch (error) {
        this.showError(error)
      }
    },
    onAskUnbind() {
      this.setData({unbinding: true})
    },
    onCancelUnbind() {
      this.setData({unbinding: false})
    },
    onUnbind() {
      this.__pending = (async () => {
        try {
          await api.call('unbind')
          await api.signOut()
          wx.reLaunch({url: '/pages/login/login'})
        } catch (error) {
          this.showError(error)
        }
      })()
      return this.__pending
    },
  },
})
