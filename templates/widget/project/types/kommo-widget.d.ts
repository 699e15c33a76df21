// Types of Kommo's (amoCRM's) widget API: the widget object `this`/`self` in script.js, its
// callbacks per connection area, the `APP`/`AMOCRM` globals and the AMD modules Kommo's page
// provides. Written by kommo-scaffold from Kommo's developer docs
// (https://developers.kommo.com/docs/script-js, /docs/widget-locations, /docs/card-sdk,
// /docs/lists-sdk, /docs/salesbot-sdk, /docs/widgets-dp, /docs/left-menu,
// /docs/environment-variables, /docs/one-time-tokens, /docs/modules) and amoCRM's
// (https://www.amocrm.ru/developers/content/integrations/script/js). Where the docs are silent
// the type is loose (`unknown`, optional members), never a guess presented as a fact.
//
// Nothing to install: `tsc -p jsconfig.json` checks widget/script.js against this file. With
// DefinitelyTyped's jQuery types installed (`npm i -D @types/jquery`), `$` gets their
// full types; without them it is a loose stand-in.

/** Loose stand-ins that DefinitelyTyped's @types/jquery merges into when installed. */
interface JQueryStatic {
  (selector?: any, context?: any): JQuery;
  [member: string]: any;
}
interface JQuery<TElement = HTMLElement> {
  [member: string]: any;
}

declare namespace Kommo {
  /** Location codes of manifest.json `locations` (without the -1/-0 panel suffix). */
  type Area =
    | 'lcard' | 'ccard' | 'comcard' | 'cucard' | 'llist' | 'clist' | 'tlist' | 'culist'
    | 'settings' | 'advanced_settings' | 'card_sdk' | 'catalogs' | 'digital_pipeline'
    | 'lead_sources' | 'everywhere' | 'sms' | 'whatsapp_modal' | 'mobile_card'
    | 'salesbot_designer' | 'website_chat_button' | 'widget_page' | 'ai_agent';

  /** What `self.system()` returns. */
  interface System {
    /** The area the widget runs in now (a location code such as 'lcard'). */
    area: Area | (string & {});
    amouser_id: number | string;
    /** The current user's e-mail. */
    amouser: string;
    amohash: string;
    subdomain?: string;
    domain?: string;
    server?: string;
    displayed_count?: number;
    displayed_count_by_area?: Record<string, number>;
  }

  /** `self.get_settings()`: the installation form's values plus Kommo's own keys. */
  interface Settings {
    /** The code Kommo assigned to this integration (not the project's own code). */
    widget_code: string;
    /** The URL folder of the widget's files (style.css, images/, templates). */
    path: string;
    version: string;
    /** 'Y' when the widget is on, 'N' when it is off. */
    active?: 'Y' | 'N' | (string & {});
    status?: InstallStatus | (string & {});
    id?: number | string;
    images_path?: string;
    oauth_client_uuid?: string;
    /** Installation form fields, by their manifest `settings` code. */
    [field: string]: unknown;
  }

  /** `self.params`: the same kind of data as get_settings() (Kommo's page adds cdn_path). */
  interface Params extends Settings {
    cdn_path?: string;
    catalog_id?: number | string;
  }

  type InstallStatus = 'install' | 'installed' | 'not_configured';

  /** The texts of the current locale: widget/i18n/<locale>.json. */
  interface Langs {
    [key: string]: any;
  }

  /** A template for `self.render()`: Twig source, a Kommo control, or a file of the widget. */
  type TemplateSource =
    | { data: string }
    | { ref: string }
    | { href: string; base_path: string; v?: string; load: (template: Template) => void;
        promised?: boolean };

  interface Template {
    render(params?: Record<string, unknown>): string;
  }

  interface RenderTemplateOptions {
    caption: { class_name: string; html?: string };
    /** The panel's HTML. */
    body?: string;
    /** Twig source rendered with the second argument of render_template(). */
    render?: string;
  }

  interface ListRow {
    id: number | string;
    type: string;
    emails: string[];
    phones: string[];
  }

  /** `self.list_selected()`: Kommo's docs give two shapes, so both keys may be there. */
  interface ListSelection {
    selected: ListRow[];
    count_selected?: number;
    summary?: { items: number; emails: number; phones: number };
  }

  interface CardContact {
    id: number;
    name: string;
    first_name?: string;
    last_name?: string;
    phones: string[];
    emails: string[];
  }

  /** An item of a card SDK tab. */
  interface CardItem {
    id: number | string;
    sku?: string;
    name: string;
    price?: number | string;
    quantity?: number;
    [key: string]: unknown;
  }

  interface SaveEvent {
    /** The installation form's values; a custom field writes fields.custom. */
    fields: Record<string, unknown>;
    active: 'Y' | 'N';
  }

  interface SalesbotExit {
    code: string;
    title: string;
  }

  interface MenuPageParams {
    location: 'widget_page' | 'stats' | 'settings';
    item_code?: string;
    subitem_code?: string;
  }

  type Maybe<T> = T | Promise<T>;

  /** A list area's callback group: `leads`, `contacts`, `todo` (`tasks` in amoCRM code). */
  interface ListCallbacks {
    /** Rows were ticked and the widget chosen under "More": read self.list_selected(). */
    selected(): Maybe<boolean | void>;
  }

  /**
   * `this.callbacks`. render, init and bind_actions run in every area and must return true
   * (or a Promise of true), or Kommo runs neither init() nor bind_actions(). The others run
   * in their areas only.
   */
  interface Callbacks {
    render(): Maybe<boolean>;
    init(): Maybe<boolean>;
    bind_actions(): Maybe<boolean>;
    /** The widget is disabled, or the user leaves its area. */
    destroy(): void;
    /** settings: the settings modal opened; its right-hand part. */
    settings?(modal_body: JQuery): unknown;
    /** settings: Install/Save (also on disabling). Return true or a Promise. */
    onSave?(event: SaveEvent): Maybe<boolean>;
    /** Once, at installation; its errors do not stop the installation. */
    onInstall?(): unknown;
    /** digital_pipeline: the action's settings form was drawn. */
    dpSettings?(): unknown;
    /** advanced_settings: the widget's own page opened; draw into #work-area-<code>. */
    advancedSettings?(): unknown;
    /** widget_page: the left-menu page or one of its sub-items opened. */
    initMenuPage?(params: MenuPageParams): unknown;
    /** salesbot_designer: the step was added in the designer. */
    salesbotDesignerSettings?(body: JQuery, renderRow: (caption: string) => string,
                              params: Record<string, unknown>): { exits: SalesbotExit[] } | void;
    /** salesbot_designer: the bot is saved; the step's Salesbot JSON, as a string. */
    onSalesbotDesignerSave?(handler_code: string, params: Record<string, unknown>): string;
    /** lead_sources: the widget was added as a lead source of a pipeline. */
    onAddAsSource?(pipeline_id: number | string): unknown;
    /** Card feed sources: a source such as SMS is used. */
    onSource?(...args: unknown[]): unknown;
    /** card_sdk: the tab opened; the items offered when search opens. */
    loadPreloadedData?(): Promise<CardItem[] | Record<string, never>>;
    /** card_sdk: the items already linked to card `id` of entity `type`. */
    loadElements?(type: string | number, id: number | string): Promise<CardItem[]>;
    /** card_sdk: links were saved, changed or removed. */
    linkCard?(links: unknown): Promise<unknown>;
    /** card_sdk: the user searched in the tab. */
    searchDataInCard?(query: string, type: string | number, id: number | string):
      Promise<CardItem[]>;
    /** catalogs: an element of the bound List opened. */
    loadCatalogElement?(catalog_element: { id: number | string; [key: string]: unknown }):
      unknown;
    leads?: ListCallbacks;
    contacts?: ListCallbacks;
    todo?: ListCallbacks;
    tasks?: ListCallbacks;
    customers?: ListCallbacks;
  }

  /** The widget object: `this` in the constructor Kommo calls, kept as `self`. */
  interface Widget {
    callbacks: Callbacks;
    langs: Langs;
    params: Params;
    system(): System;
    /** A text or group of texts of the current locale, by (dotted) key. */
    i18n(key: string): any;
    set_lang(langs: Langs): void;
    get_settings(): Settings;
    set_settings(values: Record<string, unknown>): void;
    get_version(): string;
    get_install_status(): InstallStatus;
    set_status(status: 'install' | 'installed' | 'error'): void;
    render(template: TemplateSource, params?: Record<string, unknown>): string | Template;
    render_template(options: RenderTemplateOptions, data?: Record<string, unknown>): void;
    /** POST through Kommo's proxy, like $.post. */
    crm_post(url: string, data: unknown, success?: (response: any) => void,
             type?: 'xml' | 'html' | 'script' | 'json' | 'jsonp' | 'text',
             error?: (...args: any[]) => void): void;
    /** $.ajax with Kommo's one-time JWT in the X-Auth-Token header. */
    $authorizedAjax(settings: Record<string, unknown> & { url: string }): any;
    list_selected(): ListSelection;
    widgetsOverlay(on: boolean): void;
    add_action(type: 'phone' | 'email', handler: (data: { value: string }) => void): void;
    add_source(type: string, handler: (data: any) => unknown, text?: string): void;
    get_pipeline_id(): Promise<number>;
    setSdkCatalogId(id: number | string): void;
    get_current_card_contacts_data(): Promise<CardContact[]>;
    /** Seen in public widgets, not in Kommo's docs. */
    get_accounts_current?(): unknown;
  }

  interface Notifications {
    show_message(message: Record<string, unknown>): void;
    show_message_error(message: Record<string, unknown>): void;
    show_notification?(message: Record<string, unknown>): void;
    add_error?(message: Record<string, unknown>): void;
    add_call?(message: Record<string, unknown>): void;
  }

  interface CurrentCard {
    /** 0 for a card not saved yet. */
    id: number;
    model?: any;
    [key: string]: any;
  }

  /** The `APP` global (`AMOCRM` is its older name). Read it; never assign to it. */
  interface App {
    lang_id: string;
    /** The page's code ('leads', 'contacts', 'settings', ...), not a location code. */
    getWidgetsArea(): string;
    getBaseEntity(): string;
    isCard(): boolean;
    constant(key: 'user' | 'user_rights' | 'account' | 'managers' | 'groups' | 'task_types'
                  | (string & {})): any;
    data: {
      current_card: CurrentCard | false;
      current_entity?: string;
      current_view?: { $el: JQuery; [key: string]: any };
      current_list?: any;
      [key: string]: any;
    };
    notifications: Notifications;
    sdk?: { showUserStatus(ids?: number[] | 'online'): unknown; [key: string]: any };
    /** Only for widgets with init_once: true. */
    addNotificationCallback?(code: string, callback: (data: any) => void): void;
    widgets?: any;
    /** The account's display formats, as moment format strings; seen in public widgets
     * (`moment(x).format(APP.system.format.date.date)`), not in Kommo's docs. */
    system?: { format?: { date?: { date?: string; date_short?: string; time?: string;
                                   full?: string; [key: string]: any } }; [key: string]: any };
    [key: string]: any;
  }

  /** `lib/components/base/modal`. */
  interface ModalOptions {
    class_name: string;
    init(modal_body: JQuery): void;
    destroy(): void;
    [key: string]: unknown;
  }
  interface Modal {
    destroy(): void;
    _showError?(message: string): void;
  }
  interface ModalConstructor {
    new (options: ModalOptions): Modal;
  }

  /** The AMD modules Kommo's page provides, by id. */
  interface Modules {
    jquery: JQueryStatic;
    'lib/components/base/modal': ModalConstructor;
    underscore: any;
    moment: any;
    twigjs: any;
    /** Also on Kommo's page, as public widgets use them. */
    backbone: any;
    es6promise: any;
    pubsub: any;
    FileAPI: any;
    'intl-tel-input': any;
  }

  interface Require {
    <K extends keyof Modules>(id: K): Modules[K];
    (id: string): any;
    <K extends keyof Modules>(ids: [K], callback: (module: Modules[K]) => void): void;
    (ids: string[], callback?: (...modules: any[]) => void): void;
    config?(options: Record<string, unknown>): void;
  }
}

declare var APP: Kommo.App;
declare var AMOCRM: Kommo.App;

/** RequireJS's define, as Kommo's page calls it for script.js and the files it asks for. */
declare function define(deps: string[], factory: (...modules: any[]) => unknown): void;
declare function define(factory: (...modules: any[]) => unknown): void;
declare function define(name: string, deps: string[], factory: (...modules: any[]) => unknown):
  void;
declare var require: Kommo.Require;
declare var requirejs: Kommo.Require;
