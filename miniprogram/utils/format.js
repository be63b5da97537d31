// Dates and texts as a citizen reads them.
function date(iso) {
  if (!iso) return ''
  const [y, m, d] = iso.slice(0, 10).split('-')
  return `${y}年${Number(m)}月${Number(d)}日`
}

function dateTime(iso) {
  if (!iso) return ''
  return `${date(iso)} ${iso.slice(11, 16)}`
}

function points(value) {
  if (value > 0) return `+${value} 分`
  if (value < 0) return `${value} 分`
  return '0 分'
}

// Level colours; the level's name is always printed beside the colour.
const LEVEL_COLOURS = ['#b42318', '#c4320a', '#b54708', '#027a48', '#026aa2', '#6941c6']

function levelColour(level) {
  return LEVEL_COLOURS[Math.max(0, Math.min(5, level || 0))]
}

function distance(metres) {
  if (metres === undefined || metres === null) return ''
  return metres < 1000 ? `${Math.round(metres)} 米` : `${(metres / 1000).toFixed(1)} 公里`
}

module.exports = {date, dateTime, points, levelColour, distance}
