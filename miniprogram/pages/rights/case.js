// 申请详情: deadline in working days, the timeline, and the decision's reason once decided.
const api = require('../../api/index.js')
const page = require('../../behaviors/page.js')
const format = require('../../utils/format.js')
const {deadlineText} = require('../cases/deadline.js')

Component({
  behaviors: [page],
  data: {item: null},
  methods: {
    onLoad(query = {}) {
      this.ref = query.ref
      this.__pending = this.load()
      return this.__pending
    },
    async load() {
      this.setData({loading: true, error: null})
      try {
        this.show(await api.call('case', {params: {ref: this.ref}}))
      } catch (error) {
        this.showError(error)
      }
    },
    show(item) {
      this.setData({loading: false, item: {...item, deadlineText: deadlineText(item),
        timeline: (item.timeline || []).map((t) => ({...t, when: format.dateTime(t.at)}))}})
    },
    onWithdraw() {
      this.__pending = (async () => {
        try {
          this.show(await api.call('withdrawObjection', {params: {ref: this.ref}}))
        } catch (error) {
          this.showError(error)
        }
      })()
      return this.__pending
    },
  },
})
