<?php
/**
 * YOUR CODE: the widget's own calls (GET or POST /widget/<action>).
 *
 * script.js calls them with self.$authorizedAjax({url: BACKEND_URL + '/widget/<action>'}).
 * Each function widget_<action>(WidgetRequest $r) in this file is an action (<action>:
 * lower-case letters, digits and _); name your helpers otherwise. Before it runs, the back
 * end has answered CORS for the account's page and checked Kommo's one-time token, so
 * $r->accountId, $r->userId and $r->subdomain say who calls. Return an array (sent as JSON
 * with status 200) or throw new KommoBackend\HttpError(400, 'message') for an error.
 * The back end only ever calls the functions below; template updates leave this file alone.
 */

declare(strict_types=1);

use KommoBackend\WidgetRequest;

/**
 * GET /widget/ping: who is calling, as the verified token says (script.js shows it).
 *
 * @return array<string, mixed>
 */
function widget_ping(WidgetRequest $r): array
{
    return [
        'ok' => true,
        'account_id' => $r->accountId,
        'user_id' => $r->userId,
        'subdomain' => $r->subdomain,
    ];
}
