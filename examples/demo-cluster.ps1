#Requires -Version 7.4
<#
.SYNOPSIS
    The main job: a two-node cluster end to end, on a throwaway PostgreSQL.
.DESCRIPTION
    With no -ConnectionString, starts a private PostgreSQL (when its binaries are installed) in a temporary
    directory on a free loopback port. Builds two node configuration roots from examples/etc-rstudio,
    creates the schema, registers both nodes, sends a heartbeat, starts the installation guide's four
    sessions, shows Get-WbNode and Get-WbSessionLoad, and removes everything it made. Each node's rserver
    is a listener on a free loopback port its rserver.conf names (www-address, www-port): the heartbeat
    reports a node whose rserver does not answer as Offline.

    Each step is announced on its own line, says what it made and what the output shows; in an interactive
    console a progress bar follows the steps too.
#>
[CmdletBinding()]
param(
    # The staged manifest (./build.ps1 -Task Package), or an installed module's name.
    [string] $ModulePath = (Get-ChildItem (Join-Path $PSScriptRoot '..' 'out' 'WorkbenchAdmin') -Recurse -Filter WorkbenchAdmin.psd1 -ErrorAction SilentlyContinue | Select-Object -First 1 -ExpandProperty FullName) ?? 'WorkbenchAdmin',
    [string] $ConnectionString
)
$ErrorActionPreference = 'Stop'
$InformationPreference = 'Continue'
$watch = [Diagnostics.Stopwatch]::StartNew()
Import-Module $ModulePath -Force

$steps = 'Start PostgreSQL', 'Make two nodes', 'Create the schema', 'Register the nodes', 'Start four sessions',
    'List the nodes', 'Show the status page', 'Explain a decision', 'Clean up'
# A progress bar where someone watches a console; in a log (CI, a pipe) the step lines alone tell the story.
$showProgress = [Environment]::UserInteractive -and -not [Console]::IsOutputRedirected -and $Host.Name -eq 'ConsoleHost'
$script:step = 0
function Step([string] $Title) {
    $script:step++
    Write-Information "`n[$step/$($steps.Count)] $Title"
    if ($showProgress) {
        Write-Progress -Activity 'WorkbenchAdmin demo' -Status "$step/$($steps.Count) $Title" -PercentComplete (100 * ($step - 1) / $steps.Count)
    }
}
function Say([string] $Text) { Write-Information "      $Text" }

$server = $null
$rservers = [System.Collections.Generic.List[System.Net.Sockets.TcpListener]]::new()
$work = Join-Path ([IO.Path]::GetTempPath()) "wbadmin-demo-$PID"
try {
    Step $steps[0]
    if (-not $ConnectionString) {
        # The fixture ships with the module's Pester suites.
        Add-Type -LiteralPath (Join-Path (Get-Module WorkbenchAdmin).ModuleBase 'module' 'WorkbenchAdmin.Testing.dll')
        if (-not [WorkbenchAdmin.Testing.ThrowawayPostgres]::FindBinaries()) {
            throw 'No -ConnectionString and no PostgreSQL server binaries under /usr/lib/postgresql (apt-get install postgresql; ./bootstrap.sh installs it).'
        }
        $server = [WorkbenchAdmin.Testing.ThrowawayPostgres]::Start()
        $ConnectionString = $server.ConnectionString('postgres')
        Say "a throwaway PostgreSQL server on $($server.Host):$($server.Port), its data in $($server.DataDirectory)"
    }
    else {
        Say 'none: using the server -ConnectionString names'
    }
    $db = @{ ConnectionString = $ConnectionString }

    Step $steps[1]
    # Two nodes: the guide's configuration, each with its own address, one shared secure-cookie-key.
    $key = [Convert]::ToHexString([Security.Cryptography.RandomNumberGenerator]::GetBytes(32))
    $roots = foreach ($n in 1, 2) {
        $root = Join-Path $work "node$n"
        New-Item -ItemType Directory -Force $root | Out-Null
        Copy-Item (Join-Path $PSScriptRoot 'etc-rstudio' '*') $root
        Set-WbBalancer -ConfigRoot $root -Method sessions -WwwHostName "node$n.demo:8787" -Confirm:$false
        Set-Content -Path (Join-Path $root 'secure-cookie-key') -Value $key
        $rserver = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $rserver.Start()
        $rservers.Add($rserver)
        Add-Content -Path (Join-Path $root 'rserver.conf') -Value "www-address=127.0.0.1`nwww-port=$($rserver.LocalEndpoint.Port)"
        Say "node$n.demo: its /etc/rstudio in $root (a copy of examples/etc-rstudio, balancer = sessions), its rserver a listener on 127.0.0.1:$($rserver.LocalEndpoint.Port)"
        $root
    }
    Say 'both share one secure-cookie-key, as a cluster must'

    Step $steps[2]
    Initialize-WbDatabase @db -Confirm:$false | Format-Table
    Say 'the module''s tables (nodes, sessions, drain records, ...) now exist in that database'

    Step $steps[3]
    foreach ($root in $roots) {
        Register-WbNode -ConfigRoot $root @db -WarningAction SilentlyContinue -WarningVariable unresolved | Out-Null
        Update-WbNodeStatus -ConfigRoot $root @db
    }
    Say 'each node joined the cluster and sent one heartbeat: its load, cores and clock, Online because its rserver answered'
    if ($unresolved) { Say 'the .demo names resolve nowhere, so their IPv4 addresses are not recorded (on a real cluster Register-WbNode warns)' }

    Step $steps[4]
    $sessions = @(1..4 | ForEach-Object { 'user1' } | New-WbSession -ConfigRoot $roots[0] @db)
    $sessions | Format-Table
    $spread = ($sessions | Group-Object Node | ForEach-Object { "$($_.Count) on $($_.Name)" }) -join ', '
    Say "the installation guide's acceptance test: four sessions for user1, placed by the sessions method ($spread)"

    Step $steps[5]
    Get-WbNode @db | Format-Table
    Say 'what rstudio-server list-nodes shows, with each node''s session count and 5-minute load'

    Step $steps[6]
    Get-WbSessionLoad @db -AsText
    Say 'byte for byte what http://<node>:8787/load-balancer/status prints'

    Step $steps[7]
    Invoke-WbBalanceDecision -UserName user2 -ConfigRoot $roots[0] @db | Format-List UserName, Method, Node, Reason
    Say 'where user2''s next session would go, and why'
}
finally {
    Step $steps[8]
    foreach ($rserver in $rservers) { $rserver.Stop() }
    Remove-Item -Recurse -Force $work -ErrorAction SilentlyContinue
    $made = @($work)
    if ($server) { $made += $server.RootDirectory; $server.Dispose() }
    $left = @($made | Where-Object { Test-Path -LiteralPath $_ })
    if ($left) { Write-Warning "left behind: $($left -join ', ')" }
    else { Say "stopped the two rserver listeners$(if ($server) { ' and PostgreSQL' }), removed $($made -join ' and ')" }
    if ($showProgress) { Write-Progress -Activity 'WorkbenchAdmin demo' -Completed }
}
Write-Information "`nDone in $('{0:0.0}' -f $watch.Elapsed.TotalSeconds) s: two nodes registered, four sessions spread over them, nothing left behind."
