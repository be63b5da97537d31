// 信用承诺: the catalog with each full text and version; before making one, what it would do to the score
// ("作出并履行后 760 → 775，优秀"); my commitments with days left and outcome.
const api = require('../../api/index.js')
const page = require('../../behaviors/page.js')
const format = require('../../utils/format.js')

function detail(c) {
  if (c.status === 'active') return `${format.date(c.starts_on)} 至 ${format.date(c.ends_on)}，还剩 ${c.days_left} 天；履约可加 ${c.points_if_kept} 分`
  const closed = c.closed_on ? `${format.date(c.closed_on)} ` : ''
  return `${closed}${c.status_name}${c.closed_reason ? `：${c.closed_reason}` : ''}`
}

Component({
  behaviors: [page],
  data: {types: [], mine: [], selected: '', whatIf: '', accepted: false},
  methods: {
    onLoad(query = {}) {
      this.__pending = this.load(query.type)
      return this.__pending
    },
    async load(preselect) {
      this.setData({loading: true, error: null})
      try {
        const [types, mine] = await Promise.all([api.call('commitmentTypes'), api.call('commitments')])
        this.setData({types, mine: mine.items.map((c) => ({...c, detail: detail(c)})), loading: false})
        if (preselect) await this.pick(preselect)
      } catch (error) {
        this.showError(error)
      }
    },
    onPick(event) {
      this.__pending = this.pick(event.currentTarget.dataset.code)
      return this.__pending
    },
    async pick(code) {
      this.setData({selected: code, whatIf: '', accepted: false, error: null})
      const type = this.data.types.find((t) => t.code === code)
      if (!type || type.held) return
      try {
        const answer = await api.call('whatIf', {body: {changes: [{kind: 'make_commitment', type: code}]}})
        this.setData({whatIf: `作出并履行后 ${answer.before.total} → ${answer.after.total}，${answer.after.level_name}` +
          (answer.effective_on ? `（${format.date(answer.effective_on)} 期满时计入）` : '')})
      } catch (error) {
        this.showError(error)
      }
    },
    onAccept() {
      this.setData({accepted: !this.data.accepted})
    },
    onMake() {
      this.__pending = this.make()
      return this.__pending
    },
    async make() {
      const type = this.data.types.find((t) => t.code === this.data.selected)
      try {
        await api.call('makeCommitment', {body: {type: type.code, text_version: type.text_version,
          accepted: this.data.accepted}})
        wx.showToast({title: '已作出承诺', icon: 'success'})
        await this.load()
      } catch (error) {
        this.showError(error)
      }
    },
  },
})
