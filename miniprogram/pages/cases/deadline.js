// The deadline of a case as the person reads it: a date and the working days left.
const format = require('../../utils/format.js')

function deadlineText(item) {
  if (!item.open) return item.decided_at ? `${format.date(item.decided_at)} 办结` : '已办结'
  const days = item.working_days_left
  let left = ''
  if (days !== null && days !== undefined) left = days >= 0 ? `，还剩 ${days} 个工作日` : `，已超期 ${-days} 个工作日`
  const provisional = item.deadline_provisional ? '（节假日安排公布前暂按周末计算）' : ''
  return `办理期限：${format.date(item.deadline)}${left}${provisional}`
}

module.exports = {deadlineText}
