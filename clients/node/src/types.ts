// Names for the shapes the client sends and receives, all taken from the generated
// openapi-types.ts, so a schema change in the sidecar changes them too.
import type { paths } from './openapi-types.ts';

type JsonOf<T> = T extends { content: { 'application/json': infer Body } } ? Body : never;

/** One email to enqueue (`POST /v1/emails`). */
export type EmailRequest = JsonOf<paths['/v1/emails']['post']['requestBody']>;
/** What an enqueue answers for one email. */
export type AcceptedEmail = JsonOf<paths['/v1/emails']['post']['responses'][202]>;
/** `GET /v1/emails/:id`: the email with its log. */
export type EmailDetail = JsonOf<paths['/v1/emails/{id}']['get']['responses'][200]>;
/** One page of `GET /v1/emails`. */
export type EmailPage = JsonOf<paths['/v1/emails']['get']['responses'][200]>;
/** An email as the list shows it (no log). */
export type EmailSummary = EmailPage['emails'][number];
export type EmailStatus = EmailDetail['status'];
export type ListQuery = NonNullable<paths['/v1/emails']['get']['parameters']['query']>;

/** `PUT /v1/templates/:name`'s body. */
export type TemplateRequest = JsonOf<paths['/v1/templates/{name}']['put']['requestBody']>;
export type Template = JsonOf<paths['/v1/templates/{name}']['get']['responses'][200]>;
export type TemplateSummary = JsonOf<paths['/v1/templates']['get']['responses'][200]>['templates'][number];
export type PreviewRequest = JsonOf<NonNullable<paths['/v1/templates/{name}/preview']['post']['requestBody']>>;
export type Preview = JsonOf<paths['/v1/templates/{name}/preview']['post']['responses'][200]>;

/** One address of the suppression list. */
export type Suppression = JsonOf<paths['/v1/suppressions/{address}']['get']['responses'][200]>;
/** One page of `GET /v1/suppressions`. */
export type SuppressionPage = JsonOf<paths['/v1/suppressions']['get']['responses'][200]>;
/** `PUT /v1/suppressions/:address`'s body. */
export type SuppressionRequest = JsonOf<NonNullable<paths['/v1/suppressions/{address}']['put']['requestBody']>>;

/** The JSON body of every API error. */
export type ApiErrorBody = JsonOf<paths['/v1/emails']['post']['responses'][400]>;
/** The API's stable error codes (README.md, "Error codes"). */
export type ApiErrorCode = ApiErrorBody['code'];
