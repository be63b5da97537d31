// 申请信用修复: the repair commitment's full text and version to sign, a statement, photos of the proof.
const api = require('../../api/index.js')
const page = require('../../behaviors/page.js')
const format = require('../../utils/format.js')
const evidence = require('../../utils/evidence.js')
const {evidenceLimits} = require('../../utils/settings.js')

Component({
  behaviors: [page],
  data: {preview: null, refusal: '', statement: '', photos: [], signed: false, limits: evidenceLimits(null),
    fieldErrors: {}},
  methods: {
    onLoad(query = {}) {
      this.record = query.record
      this.__pending = this.load()
      return this.__pending
    },
    async load() {
      try {
        const [preview, settings] = await Promise.all([
          api.call('repairPreview', {query: {record: this.record}}), api.clientSettings()])
        let refusal = ''
        if (!preview.can_apply) {
          refusal = (preview.refusal && preview.refusal.message) ||
            (preview.repairable_from ? `自 ${format.date(preview.repairable_from)} 起可申请信用修复。` : '这条记录不能申请信用修复。')
        }
        this.setData({preview, refusal, limits: evidenceLimits(settings)})
      } catch (error) {
        this.showError(error)
      }
    },
    onStatement(event) {
      this.setData({statement: event.detail.value})
    },
    onPhotos(event) {
      this.setData({photos: event.detail.photos})
    },
    onSign() {
      this.setData({signed: !this.data.signed, 'fieldErrors.commitment_accepted': ''})
    },
    onSubmit() {
      this.__pending = this.submit()
      return this.__pending
    },
    async submit() {
      if (!this.data.signed) {
        this.setData({'fieldErrors.commitment_accepted': '请先阅读并签署信用修复承诺书。'})
        return
      }
      this.setData({loading: true, error: null})
      try {
        const photos = this.data.photos.map((p) => ({...p}))
        let filed
        try {
          filed = await evidence.submit('applyRepair', {record: this.record, statement: this.data.statement,
            commitment_version: this.data.preview.commitment_version, commitment_accepted: true}, photos)
        } finally {
          this.setData({photos})
        }
        this.setData({loading: false})
        wx.redirectTo({url: `/pages/rights/case?ref=${filed.ref}`})
      } catch (error) {
        this.showError(error)
      }
    },
  },
})
