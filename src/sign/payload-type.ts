/** The DSSE payload type of an in-toto Statement. */
export const PAYLOAD_TYPE = 'application/vnd.in-toto+json'
