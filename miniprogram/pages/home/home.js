// 首页: the total, the level (name and colour), the four dimensions against their caps, when it was computed,
// the last 12 months as a bar chart, and the hints, each with a button to where it leads.
const api = require('../../api/index.js')
const page = require('../../behaviors/page.js')
const format = require('../../utils/format.js')
const {monthly} = require('../../utils/history.js')
const badge = require('../../utils/badge.js')

function hintTarget(hint) {
  switch (hint.kind) {
    case 'make_commitment':
      return {url: `/pages/commitments/index?type=${hint.type}`, button: '去作出承诺'}
    case 'repair_open':
    case 'repair_soon':
      return {url: `/pages/records/detail?ref=${hint.ref}`, button: '去申请修复'}
    case 'expiring':
      return {url: `/pages/records/detail?ref=${hint.ref}`, button: '查看记录'}
    case 'voluntary':
    case 'honour':
      return {url: '/pages/voluntary/index', button: '去自愿注册'}
    default:
      return {url: hint.ref ? `/pages/records/detail?ref=${hint.ref}` : '/pages/records/records', button: '查看'}
  }
}

Component({
  behaviors: [page],
  data: {score: null, levelColour: '', computedAt: '', months: [], hints: [], noScore: ''},
  methods: {
    onLoad() {
      this.__pending = this.load()
      return this.__pending
    },
    onShow() {
      badge.refresh()
    },
    async load() {
      this.setData({loading: true, error: null})
      try {
        if (!(await api.ensureSession())) {
          wx.reLaunch({url: '/pages/login/login'})
          return
        }
        const [score, history, hints] = await Promise.all([api.call('score').catch(this.noScore.bind(this)),
          api.call('history'), api.call('hints')])
        if (score) {
          score.dimensions = score.dimensions.map((d) => ({...d, percent: Math.round(100 * d.points / d.cap)}))
          this.setData({score, levelColour: format.levelColour(score.level),
            computedAt: format.dateTime(score.computed_at)})
        }
        this.setData({months: monthly(history), loading: false,
          hints: hints.hints.map((h) => ({...h, ...hintTarget(h),
            pointsText: h.points ? `预计 ${h.points > 0 ? '+' : ''}${h.points} 分` : ''}))})
        badge.refresh()
      } catch (error) {
        this.showError(error)
      }
    },
    noScore(error) {
      // No scoring consent, or the score is not ready: say why, keep the rest of the page.
      if (error.network) throw error
      this.setData({noScore: error.message})
      return null
    },
  },
})
