export function signed(points) {
  if (points === null || points === undefined) return ''
  return points > 0 ? `+${points}` : String(points)
}

// '2026-12-06T15:27:51+08:00' → '2026-12-06 15:27'
export function when(value) {
  if (!value) return ''
  const text = String(value)
  return text.length > 10 ? `${text.slice(0, 10)} ${text.slice(11, 16)}` : text
}
