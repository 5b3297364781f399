// The clouds rhacs-sts knows, by id: a leaf, so that the cloud-neutral plan can name a plan's cloud.

/** The clouds rhacs-sts knows (the registry lists each one's module). */
export type CloudId = 'aws' | 'gcp' | 'azure';
