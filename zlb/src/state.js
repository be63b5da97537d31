import { ref } from 'vue'

// What one page hands the next without a server round trip (the list item a detail page opens with).
export const unreadState = { count: ref(0) }
export const picked = { record: null, offer: null }
