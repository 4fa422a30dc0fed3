// The channel every write that makes emails due NOTIFYs, and each dispatcher LISTENs on
// (src/delivery/notify-listener.ts): a sidecar wakes when another one queues or puts back mail.
export const NOTIFY_CHANNEL = 'post_office_emails';
