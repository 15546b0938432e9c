/**
 * The longest name a cpio header may give, its NUL included: PATH_MAX, as the kernel
 * bounds it. The reader refuses longer ones before reading them, and detection takes a
 * binary header that gives one for no cpio at all.
 */
export const CPIO_MAX_NAME = 4096
