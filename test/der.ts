export { derElement } from '../src/der.js'
