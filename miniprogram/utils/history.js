// The 12-month chart: one bar per month, the score as it stood at the month's end (or today, for this month).
function monthly(history) {
  const points = (history && history.points) || []
  if (!points.length) return []
  const end = history.to
  const [y, m] = end.split('-').map(Number)
  const months = []
  for (let i = 11; i >= 0; i -= 1) {
    const date = new Date(Date.UTC(y, m - 1 - i, 1))
    const year = date.getUTCFullYear()
    const month = date.getUTCMonth() + 1
    const last = new Date(Date.UTC(year, month, 0)).toISOString().slice(0, 10)
    const until = last < end ? last : end
    let value = null
    for (const point of points) if (point.date <= until) value = point
    months.push({key: `${year}-${month}`, label: `${month}月`, total: value ? value.total : null,
      level_name: value ? value.level_name : ''})
  }
  const max = Math.max(...months.map((p) => p.total || 0), 1)
  const min = Math.min(...months.filter((p) => p.total !== null).map((p) => p.total))
  // Bars start a little below the lowest month so that changes are visible.
  const floor = Math.max(0, Math.floor((min - 100) / 100) * 100)
  return months.map((p) => ({...p, height: p.total === null ? 0 : Math.round(40 + 200 * (p.total - floor) / (max - floor || 1))}))
}

module.exports = {monthly}
