// How a record reads in the list and on its page.
const format = require('../../utils/format.js')

function describe(record) {
  let countText
  if (record.counted) countText = `计分至 ${format.date(record.counts_until)}`
  else if (record.not_counted_text) countText = `不计分：${record.not_counted_text}`
  else countText = record.counts_until ? `有效期至 ${format.date(record.counts_until)}` : '不计分'
  return {...record, pointsText: record.counted ? format.points(record.points) : '不计分',
    occurred: format.date(record.occurred_at), countText}
}

module.exports = {describe}
