// One record: what it is, its points, the date it stops counting; 提出异议, and 申请信用修复 where it is
// repairable (or the date from which it is).
const api = require('../../api/index.js')
const page = require('../../behaviors/page.js')
const format = require('../../utils/format.js')
const {describe} = require('./describe.js')

Component({
  behaviors: [page],
  data: {record: null, canObject: false, repair: {}},
  methods: {
    onLoad(query = {}) {
      this.ref = query.ref
      this.__pending = this.load()
      return this.__pending
    },
    async load() {
      this.setData({loading: true, error: null})
      try {
        const record = describe(await api.call('record', {params: {ref: this.ref}}))
        this.setData({record, canObject: record.status === 'active'})
        if (record.points < 0 && record.status === 'active') {
          const preview = await api.call('repairPreview', {query: {record: record.ref}})
          const today = new Date().toISOString().slice(0, 10)
          this.setData({repair: {can_apply: preview.can_apply,
            from: !preview.can_apply && preview.repairable_from && preview.repairable_from > today
              ? format.date(preview.repairable_from) : '',
            refusal: preview.can_apply ? '' : (preview.refusal && preview.refusal.message) || preview.refusal || ''}})
        }
        this.setData({loading: false})
      } catch (error) {
        this.showError(error)
      }
    },
  },
})
