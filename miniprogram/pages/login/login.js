// Sign-in (wx.login → /mp/v1/session), WeChat's privacy popup, and binding to the person's credit file.
const api = require('../../api/index.js')
const page = require('../../behaviors/page.js')
const {consentOf} = require('../../utils/settings.js')

Component({
  behaviors: [page],
  data: {
    form: {name: '', id_number: '', phone: '', scoring_consent: false},
    fieldErrors: {},
    consent: null,
    privacy: false,
    signInFailed: false,
  },
  lifetimes: {
    attached() {
      if (wx.onNeedPrivacyAuthorization) wx.onNeedPrivacyAuthorization((resolve) => this.askPrivacy(resolve))
    },
  },
  methods: {
    async onLoad() {
      this.setData({signInFailed: false})
      try {
        const bound = await api.ensureSession()
        if (bound) {
          wx.reLaunch({url: '/pages/home/home'})
          return
        }
      } catch (error) {
        this.setData({signInFailed: true})
        this.showError(error)
        return
      }
      try {
        this.setData({consent: consentOf(await api.clientSettings(), 'scoring')})
      } catch (error) {
        this.showError(error)
      }
    },
    askPrivacy(resolve) {
      this.resolvePrivacy = resolve
      this.setData({privacy: true})
    },
    onAgreePrivacy() {
      if (this.resolvePrivacy) this.resolvePrivacy({buttonId: 'agree-privacy', event: 'agree'})
      this.resolvePrivacy = null
      this.setData({privacy: false})
    },
    onRefusePrivacy() {
      if (this.resolvePrivacy) this.resolvePrivacy({event: 'disagree'})
      this.resolvePrivacy = null
      this.setData({privacy: false})
    },
    onOpenPrivacyContract() {
      if (wx.openPrivacyContract) wx.openPrivacyContract({})
    },
    onInput(event) {
      const field = event.currentTarget.dataset.field
      this.setData({[`form.${field}`]: event.detail.value, [`fieldErrors.${field}`]: ''})
    },
    onToggleConsent() {
      this.setData({'form.scoring_consent': !this.data.form.scoring_consent})
    },
    onSubmit() {
      this.__pending = this.submit()
      return this.__pending
    },
    async submit() {
      const form = this.data.form
      this.setData({loading: true, error: null, fieldErrors: {}})
      try {
        await api.call('bind', {body: {name: form.name.trim(), id_number: form.id_number.trim().toUpperCase(),
          phone: form.phone.trim(), scoring_consent: form.scoring_consent}})
        this.setData({loading: false})
        wx.reLaunch({url: '/pages/home/home'})
      } catch (error) {
        const fieldErrors = {}
        for (const [field, messages] of Object.entries(error.errors || {})) {
          fieldErrors[field] = [].concat(messages).join('；')
        }
        this.setData({fieldErrors})
        // A message that belongs to a field is shown under it; anything else (mismatch, lockout) on top.
        if (Object.keys(fieldErrors).length) this.setData({loading: false})
        else this.showError(error)
      }
    },
  },
})
