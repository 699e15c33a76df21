<?php
/**
 * Front controller: every request Kommo sends to the back end enters here.
 *
 * Run locally: php -S 127.0.0.1:8000 -t backend/public
 * Routes come from src/config.php; your own code goes into hooks/*.php.
 */

declare(strict_types=1);

// Before anything else can fail: PHP messages go to the log, never into a response.
ini_set('display_errors', '0');
ini_set('html_errors', '0');
error_reporting(E_ALL);

require __DIR__ . '/../src/App.php';

KommoBackend\App::main(dirname(__DIR__));
