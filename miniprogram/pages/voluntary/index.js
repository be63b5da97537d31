// 自愿注册: honours, blood donation, volunteering… with proof photos and the truth commitment signed.
const api = require('../../api/index.js')
const page = require('../../behaviors/page.js')
const evidence = require('../../utils/evidence.js')
const {evidenceLimits} = require('../../utils/settings.js')

Component({
  behaviors: [page],
  data: {types: [], form: {type: '', occurred_at: '', quantity: '', issuer: '', certificate_no: ''}, unit: '',
    photos: [], accepted: false, commitmentText: '', commitmentVersion: '', verifyDays: 3, reports: [],
    fieldErrors: {}, limits: evidenceLimits(null)},
  methods: {
    onLoad() {
      this.__pending = this.load()
      return this.__pending
    },
    async load() {
      try {
        const [types, reports, settings] = await Promise.all([api.call('voluntaryTypes'),
          api.call('voluntaryReports'), api.clientSettings()])
        this.setData({types: types.types, commitmentText: types.commitment_text,
          commitmentVersion: types.commitment_version, verifyDays: types.verify_working_days,
          reports: reports.items, limits: evidenceLimits(settings)})
      } catch (error) {
        this.showError(error)
      }
    },
    onType(event) {
      const code = event.currentTarget.dataset.code
      const type = this.data.types.find((t) => t.code === code)
      this.setData({'form.type': code, unit: type.unit || '', 'fieldErrors.type': ''})
    },
    onInput(event) {
      const field = event.currentTarget.dataset.field
      this.setData({[`form.${field}`]: event.detail.value, [`fieldErrors.${field}`]: ''})
    },
    onPhotos(event) {
      this.setData({photos: event.detail.photos})
    },
    onAccept() {
      this.setData({accepted: !this.data.accepted})
    },
    onSubmit() {
      this.__pending = this.submit()
      return this.__pending
    },
    async submit() {
      const form = this.data.form
      this.setData({loading: true, error: null, fieldErrors: {}})
      try {
        const photos = this.data.photos.map((p) => ({...p}))
        try {
          await evidence.submit('submitVoluntary', {type: form.type, occurred_at: form.occurred_at,
            issuer: form.issuer, certificate_no: form.certificate_no,
            quantity: form.quantity ? Number(form.quantity) : null, commitment_version: this.data.commitmentVersion,
            commitment_accepted: this.data.accepted}, photos)
        } finally {
          this.setData({photos})
        }
        wx.showToast({title: '已提交，等待核实', icon: 'success'})
        this.setData({loading: false, photos: [], accepted: false,
          form: {type: '', occurred_at: '', quantity: '', issuer: '', certificate_no: ''}})
        this.setData({reports: (await api.call('voluntaryReports')).items})
      } catch (error) {
        const fieldErrors = {}
        for (const [field, messages] of Object.entries(error.errors || {})) fieldErrors[field] = [].concat(messages).join('；')
        this.setData({fieldErrors})
        this.showError(error)
      }
    },
  },
})
