// 提出异议: a reason from the list and a text, photos uploaded one by one, then the objection with their ids.
const api = require('../../api/index.js')
const page = require('../../behaviors/page.js')
const evidence = require('../../utils/evidence.js')
const {evidenceLimits} = require('../../utils/settings.js')

const REASONS = [
  {code: 'wrong_facts', label: '事实有误'},
  {code: 'not_me', label: '不是本人'},
  {code: 'wrong_date', label: '日期有误'},
  {code: 'already_corrected', label: '已撤销或变更'},
  {code: 'expired', label: '已过公示期'},
  {code: 'other', label: '其他'},
]

Component({
  behaviors: [page],
  data: {reasons: REASONS, reason: '', text: '', photos: [], limits: evidenceLimits(null), fieldErrors: {},
},
  methods: {
    async onLoad(query = {}) {
      this.record = query.record
      try {
        this.setData({limits: evidenceLimits(await api.clientSettings())})
      } catch (error) {
        this.showError(error)
      }
    },
    onReason(event) {
      this.setData({reason: event.currentTarget.dataset.code, 'fieldErrors.reason_code': ''})
    },
    onText(event) {
      this.setData({text: event.detail.value})
    },
    onPhotos(event) {
      this.setData({photos: event.detail.photos})
    },
    onSubmit() {
      this.__pending = this.submit()
      return this.__pending
    },
    async submit() {
      if (!this.data.reason) {
        this.setData({'fieldErrors.reason_code': '请选择异议理由。'})
        return
      }
      this.setData({loading: true, error: null, fieldErrors: {}})
      try {
        const photos = this.data.photos.map((p) => ({...p}))
        let filed
        try {
          filed = await evidence.submit('fileObjection', {record: this.record, reason_code: this.data.reason,
            reason_text: this.data.text}, photos)
        } finally {
          this.setData({photos})
        }
        this.setData({loading: false})
        wx.redirectTo({url: `/pages/rights/case?ref=${filed.ref}`})
      } catch (error) {
        const fieldErrors = {}
        for (const [field, messages] of Object.entries(error.errors || {})) fieldErrors[field] = [].concat(messages).join('；')
        this.setData({fieldErrors})
        this.showError(error)
      }
    },
  },
})
