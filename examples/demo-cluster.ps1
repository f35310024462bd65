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
#>
[CmdletBinding()]
param(
    # The staged manifest (./build.ps1 -Task Package), or an installed module's name.
    [string] $ModulePath = (Get-ChildItem (Join-Path $PSScriptRoot '..' 'out' 'WorkbenchAdmin') -Recurse -Filter WorkbenchAdmin.psd1 -ErrorAction SilentlyContinue | Select-Object -First 1 -ExpandProperty FullName) ?? 'WorkbenchAdmin',
    [string] $ConnectionString
)
$ErrorActionPreference = 'Stop'
$InformationPreference = 'Continue'
Import-Module $ModulePath -Force

$server = $null
$rservers = [System.Collections.Generic.List[System.Net.Sockets.TcpListener]]::new()
$work = Join-Path ([IO.Path]::GetTempPath()) "wbadmin-demo-$PID"
try {
    if (-not $ConnectionString) {
        # The fixture ships with the module's Pester suites.
        Add-Type -LiteralPath (Join-Path (Get-Module WorkbenchAdmin).ModuleBase 'module' 'WorkbenchAdmin.Testing.dll')
        if (-not [WorkbenchAdmin.Testing.ThrowawayPostgres]::FindBinaries()) {
            throw 'No -ConnectionString and no PostgreSQL server binaries under /usr/lib/postgresql (apt-get install postgresql).'
        }
        Write-Information '== starting a throwaway PostgreSQL'
        $server = [WorkbenchAdmin.Testing.ThrowawayPostgres]::Start()
        $ConnectionString = $server.ConnectionString('postgres')
    }
    $db = @{ ConnectionString = $ConnectionString }

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
        $root
    }

    Write-Information '== Initialize-WbDatabase'
    Initialize-WbDatabase @db -Confirm:$false | Format-Table

    Write-Information '== Register-WbNode, Update-WbNodeStatus'
    foreach ($root in $roots) {
        Register-WbNode -ConfigRoot $root @db | Out-Null
        Update-WbNodeStatus -ConfigRoot $root @db
    }

    Write-Information '== the acceptance test: four sessions'
    1..4 | ForEach-Object { 'user1' } | New-WbSession -ConfigRoot $roots[0] @db | Format-Table

    Write-Information '== Get-WbNode'
    Get-WbNode @db | Format-Table

    Write-Information '== Get-WbSessionLoad -AsText (as /load-balancer/status prints it)'
    Get-WbSessionLoad @db -AsText

    Write-Information '== why user2 would go where it goes'
    Invoke-WbBalanceDecision -UserName user2 -ConfigRoot $roots[0] @db | Format-List UserName, Method, Node, Reason
}
finally {
    foreach ($rserver in $rservers) { $rserver.Stop() }
    Remove-Item -Recurse -Force $work -ErrorAction SilentlyContinue
    if ($server) { $server.Dispose() }
}
