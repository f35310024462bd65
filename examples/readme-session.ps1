#Requires -Version 7.4
<#
.SYNOPSIS
    Records the README's PowerShell transcripts: runs every command they show and prints each as
    "PS> <command>" followed by what it printed.
.DESCRIPTION
    README.md's transcripts are pasted from this script's output, never written by hand. It runs from the
    repository (after ./build.ps1 -Task Package), in three parts, each introduced by a "==> <README heading>"
    line; what follows a heading is the fenced block of that part of the README, as it stands there:

      A quick tour         in the checkout, against ./examples and the staged ./out/WorkbenchAdmin;
                           the cluster commands on a two-node demo cluster (node1.demo, node2.demo).
      Installing           a session on the first node of another new two-node demo cluster.
      Verifying a cluster  a three-node cluster built from examples/etc-rstudio as it is
                           (node1.example.com, node2.example.com, node3.example.com) whose third node has
                           a secure-cookie-key of its own.

    Each cluster has a throwaway PostgreSQL of its own (a role and a database both named rstudio) and node
    configuration roots that are copies of examples/etc-rstudio in a temporary directory: their database.conf
    points at that server (the password encrypted with Protect-WbDatabasePassword), the nodes of a cluster share
    a secure-cookie-key (mode 600), and the demo clusters' server-shared-storage-path is a directory they share.
    Each node's rserver is a listener on a free loopback port that its rserver.conf names (www-address, www-port):
    the heartbeat reports a node whose rserver does not answer there as Offline.
    A command the README shows without -ConfigRoot runs as on a node whose /etc/rstudio is such a copy:
    WORKBENCHADMIN_CONFIG_ROOT names the first node's root. What the README says is done "on each node" is done
    here on the other nodes too, with -ConfigRoot and without printing it; so is the heartbeat service's
    Update-WbNodeStatus. Nothing else is hidden: every command shown is run as shown, and its warnings are
    printed where they came.

    Output is formatted as a 100-column console shows it, without colour. Everything made is removed at the end.
    module/tests/WorkbenchAdmin.Readme.Tests.ps1 runs this script and compares its output with README.md.
.EXAMPLE
    pwsh -NoProfile -File ./examples/readme-session.ps1
#>
[CmdletBinding()]
param()
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$PSStyle.OutputRendering = 'PlainText'

$repository = Split-Path $PSScriptRoot -Parent
$width = 100
$work = Join-Path ([IO.Path]::GetTempPath()) "wbadmin-readme-$PID"
$servers = [System.Collections.Generic.List[object]]::new()
$rservers = [System.Collections.Generic.List[System.Net.Sockets.TcpListener]]::new()
$savedLocation = Get-Location
$savedModulePath = $env:PSModulePath
$savedConfigRoot = $env:WORKBENCHADMIN_CONFIG_ROOT

# A throwaway PostgreSQL with a role and a database named rstudio (as examples/etc-rstudio/database.conf has it).
function Initialize-Store {
    Add-Type -LiteralPath (Join-Path (Get-Module WorkbenchAdmin).ModuleBase 'module' 'WorkbenchAdmin.Testing.dll')
    $server = [WorkbenchAdmin.Testing.ThrowawayPostgres]::Start()
    $servers.Add($server)
    $psql = Join-Path ([WorkbenchAdmin.Testing.ThrowawayPostgres]::FindBinaries()) 'psql'
    $env:PGPASSWORD = $server.Password
    try {
        & $psql -X -q -h $server.Host -p $server.Port -U postgres -d postgres `
            -c "CREATE ROLE rstudio LOGIN PASSWORD '$($server.Password)'" -c 'CREATE DATABASE rstudio OWNER rstudio'
        if ($LASTEXITCODE -ne 0) { throw "psql could not create the rstudio role and database (exit code $LASTEXITCODE)." }
    }
    finally { Remove-Item -Path Env:PGPASSWORD -ErrorAction SilentlyContinue }
    $server
}

# A node's /etc/rstudio: a copy of examples/etc-rstudio whose database.conf points at the server.
function Copy-ExampleRoot {
    param([string] $Directory, [string] $Name, [string] $Key, [object] $Server, [string] $SharedStorage)
    $root = Join-Path $Directory $Name
    New-Item -ItemType Directory -Path $root -Force | Out-Null
    Copy-Item -Path (Join-Path $repository 'examples' 'etc-rstudio' '*') -Destination $root
    Set-WbBalancer -ConfigRoot $root -Method sessions -WwwHostName "${Name}:8787" -Confirm:$false
    $keyFile = Join-Path $root 'secure-cookie-key'
    Set-Content -LiteralPath $keyFile -Value $Key
    $databaseConf = Join-Path $root 'database.conf'
    (Get-Content -LiteralPath $databaseConf) -replace '^host=.*', "host=$($Server.Host)" -replace '^port=.*', "port=$($Server.Port)" |
        Set-Content -LiteralPath $databaseConf
    $password = [System.Net.NetworkCredential]::new('', $Server.Password).SecurePassword
    Protect-WbDatabasePassword -ConfigRoot $root -Password $password -Apply -Confirm:$false | Out-Null
    $rserverConf = Join-Path $root 'rserver.conf'
    if ($SharedStorage) {
        (Get-Content -LiteralPath $rserverConf) -replace '^server-shared-storage-path=.*', "server-shared-storage-path=$SharedStorage" |
            Set-Content -LiteralPath $rserverConf
    }
    $rserver = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $rserver.Start()
    $rservers.Add($rserver)
    Add-Content -LiteralPath $rserverConf -Value "www-address=127.0.0.1`nwww-port=$($rserver.LocalEndpoint.Port)"
    & chmod 600 $keyFile $databaseConf
    $root
}

function Get-NewKey {
    [Convert]::ToHexString([Security.Cryptography.RandomNumberGenerator]::GetBytes(32))
}

# Nodes of one cluster: the same key, and the first node's database.conf (the password encrypted once).
function Build-Cluster {
    param([string] $Directory, [string[]] $Name, [object] $Server, [switch] $SharedStorage)
    $key = Get-NewKey
    $shared = $null
    if ($SharedStorage) {
        $shared = Join-Path $Directory 'shared-storage'
        New-Item -ItemType Directory -Path $shared -Force | Out-Null
    }
    $roots = @(foreach ($node in $Name) { Copy-ExampleRoot -Directory $Directory -Name $node -Key $key -Server $Server -SharedStorage $shared })
    foreach ($root in $roots | Select-Object -Skip 1) {
        Copy-Item -LiteralPath (Join-Path $roots[0] 'database.conf') -Destination $root
    }
    $roots
}

# A beat of the heartbeat service (examples/systemd), on every node given.
function Invoke-Heartbeat {
    param([string[]] $Root)
    foreach ($r in $Root) { Update-WbNodeStatus -ConfigRoot $r }
}

# What a 100-column console shows for a command's output: objects formatted in runs, warnings where they came.
function Format-Output {
    param([object[]] $Record)
    $run = [System.Collections.Generic.List[object]]::new()
    $text = [System.Text.StringBuilder]::new()
    foreach ($item in $Record) {
        if ($item -is [System.Management.Automation.WarningRecord]) {
            if ($run.Count -gt 0) { $null = $text.Append(($run | Out-String -Width $width)); $run.Clear() }
            $null = $text.Append("WARNING: $($item.Message)`n")
        }
        else { $run.Add($item) }
    }
    if ($run.Count -gt 0) { $null = $text.Append(($run | Out-String -Width $width)) }
    $lines = @($text.ToString() -split '\r?\n' | ForEach-Object TrimEnd)
    $last = $lines.Count - 1
    while ($last -ge 0 -and -not $lines[$last]) { $last-- }
    if ($last -ge 0) { $lines[0..$last] }
}

$parts = [ordered]@{
    'A quick tour'        = @(
        'Import-Module ./out/WorkbenchAdmin'
        {
            $script:quick = Build-Cluster -Directory (Join-Path $work 'quick-tour') -Name node1.demo, node2.demo -Server (Initialize-Store) -SharedStorage
            $env:WORKBENCHADMIN_CONFIG_ROOT = $quick[0]
        }
        'Get-WbConfig -ConfigRoot ./examples/etc-rstudio -File rserver.conf, database.conf'
        'Set-WbBalancer -ConfigRoot ./examples/etc-rstudio -Method user-hash -WwwHostName node1.example.com:8787 -WhatIf'
        @'
$nodes = [WorkbenchAdmin.Model.NodeCandidate]@{ Host = 'node1.example.com'; ActiveSessions = 12; Load5 = 3.5; Cores = 8 },
             [WorkbenchAdmin.Model.NodeCandidate]@{ Host = 'node2.example.com'; ActiveSessions = 4;  Load5 = 7.9; Cores = 8 },
             [WorkbenchAdmin.Model.NodeCandidate]@{ Host = 'node3.example.com'; ActiveSessions = 4;  Load5 = 1.2; Cores = 4 }
'@
        "'sessions', 'system-load', 'user-hash' | ForEach-Object { Invoke-WbBalanceDecision alice -Method `$_ -Node `$nodes }"
        'Initialize-WbDatabase; Register-WbNode; Update-WbNodeStatus      # on each node (see examples/systemd)'
        {
            Register-WbNode -ConfigRoot $quick[1] -WarningAction SilentlyContinue | Out-Null
            Invoke-Heartbeat -Root $quick[1], $quick[0]
        }
        "1..4 | ForEach-Object { 'user1' } | New-WbSession                # the guide's acceptance test"
        'Get-WbSessionLoad -AsText                                         # exactly what /load-balancer/status prints'
    )
    'Installing'          = @(
        {
            $env:PSModulePath = (Join-Path $repository 'out') + [IO.Path]::PathSeparator + $env:PSModulePath
            $script:first = Build-Cluster -Directory (Join-Path $work 'installing') -Name node1.demo, node2.demo -Server (Initialize-Store) -SharedStorage
            $env:WORKBENCHADMIN_CONFIG_ROOT = $first[0]
        }
        'Import-Module WorkbenchAdmin'
        'Initialize-WbDatabase'
        'Register-WbNode | Out-Null          # on each node; then the heartbeat service (examples/systemd)'
        {
            Register-WbNode -ConfigRoot $first[1] -WarningAction SilentlyContinue | Out-Null
            Invoke-Heartbeat -Root $first[1], $first[0]
        }
        "1..4 | ForEach-Object { 'user1' } | New-WbSession"
        'Get-WbNode'
        'Get-WbSessionLoad'
        'Test-WbCluster -Check cluster.* | Format-Table Status, CheckId, Found'
        'Get-WbSession -UserName user1 | Remove-WbSession'
    )
    'Verifying a cluster' = @(
        {
            # examples/etc-rstudio as it is, on three nodes; node3's secure-cookie-key is its own (and so is
            # the encryption of its database password).
            $store = Initialize-Store
            $directory = Join-Path $work 'verifying'
            $verify = @(Build-Cluster -Directory $directory -Name node1.example.com, node2.example.com -Server $store)
            $verify += Copy-ExampleRoot -Directory $directory -Name node3.example.com -Key (Get-NewKey) -Server $store
            Initialize-WbDatabase -ConfigRoot $verify[0] -Confirm:$false | Out-Null
            foreach ($root in $verify) { Register-WbNode -ConfigRoot $root -WarningAction SilentlyContinue | Out-Null }
            Invoke-Heartbeat -Root $verify
            $env:WORKBENCHADMIN_CONFIG_ROOT = $verify[0]
        }
        'Test-WbCluster -Spec ./examples/cluster.yaml | Where-Object Status -ne Pass'
    )
}

try {
    Set-Location -LiteralPath $repository
    New-Item -ItemType Directory -Path $work | Out-Null
    foreach ($heading in $parts.Keys) {
        "==> $heading"
        $blankLine = $false
        foreach ($step in $parts[$heading]) {
            if ($step -is [scriptblock]) {
                $null = . $step
                continue
            }
            # A blank line after a command's output, none after a part's last one.
            if ($blankLine) { '' }
            "PS> $step"
            # Dot-sourced: the commands of a part share their variables, as in one interactive session.
            $output = @(Format-Output -Record @(. ([scriptblock]::Create($step)) 3>&1))
            $output
            $blankLine = $output.Count -gt 0
        }
    }
}
finally {
    Set-Location -LiteralPath $savedLocation
    $env:PSModulePath = $savedModulePath
    $env:WORKBENCHADMIN_CONFIG_ROOT = $savedConfigRoot
    foreach ($rserver in $rservers) { $rserver.Stop() }
    foreach ($server in $servers) { $server.Dispose() }
    Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
}
