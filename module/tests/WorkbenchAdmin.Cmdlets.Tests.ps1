#Requires -Modules Pester
<#
    Every cmdlet end to end, as a user runs it: in a real runspace, against real configuration files (copies of
    examples/etc-rstudio), real executable balancer scripts and a throwaway PostgreSQL started once for this file.
    The cluster is the demo's (examples/demo-cluster.ps1): two nodes with their own www-host-name and one shared
    secure-cookie-key; their database.conf points at the throwaway server.

    Run with the rest: ./build.ps1 -Task Package, Pester (it sets WORKBENCHADMIN_MODULE to the staged manifest).
#>

BeforeDiscovery {
    $modulePathForDiscovery = if ($env:WORKBENCHADMIN_MODULE) { $env:WORKBENCHADMIN_MODULE } else { 'WorkbenchAdmin' }
    Import-Module $modulePathForDiscovery -ErrorAction Stop
    # Script scope: the Describe blocks below read these during discovery.
    $script:exportedCmdlets = @((Get-Command -Module WorkbenchAdmin -CommandType Cmdlet).Name | Sort-Object)
    $script:viewCases = foreach ($command in 'Get-WbNode', 'Get-WbSession', 'New-WbSession', 'Invoke-WbBalanceDecision', 'Get-WbConfig',
        'Test-WbCluster', 'Get-WbBalancer', 'Initialize-WbDatabase', 'Get-WbSessionLoad', 'Test-WbBalancerScript') {
        foreach ($width in 80, 120) { @{ Command = $command; Width = $width } }
    }
}

BeforeAll {
    Import-Module $(if ($env:WORKBENCHADMIN_MODULE) { $env:WORKBENCHADMIN_MODULE } else { 'WorkbenchAdmin' }) -Force -ErrorAction Stop
    $script:moduleBase = (Get-Module WorkbenchAdmin).ModuleBase
    $script:modulePath = Join-Path $moduleBase 'WorkbenchAdmin.psd1'
    # The suite runs from the repository's module/tests (build.ps1 -Task Pester).
    $script:repoRoot = Split-Path (Split-Path $PSScriptRoot -Parent) -Parent
    $script:ellipsis = [string][char]0x2026
    # A sample user of Test-WbBalancerScript, written with escapes to keep this file ASCII.
    $script:accented = "jos$([char]0xE9).garc$([char]0xED)a"

    Add-Type -LiteralPath (Join-Path $moduleBase 'module' 'WorkbenchAdmin.Testing.dll')
    $script:pg = [WorkbenchAdmin.Testing.ThrowawayPostgres]::Start()
    $script:cs = $pg.ConnectionString('postgres')
    $script:db = @{ ConnectionString = $cs }
    $script:psql = Join-Path ([WorkbenchAdmin.Testing.ThrowawayPostgres]::FindBinaries()) 'psql'
    $script:pgPassword = ([System.Data.Common.DbConnectionStringBuilder]@{ ConnectionString = $cs })['Password']

    # The demo's two nodes: the guide's configuration, each with its own address, one shared secure-cookie-key.
    $script:hosts = 'node1.wbtest.example', 'node2.wbtest.example'
    $script:addresses = $hosts | ForEach-Object { "${_}:8787" }
    $script:clusterKey = [Convert]::ToHexString([Security.Cryptography.RandomNumberGenerator]::GetBytes(32))
    $script:work = Join-Path $TestDrive 'cluster'
    $script:databaseConf = @"
# The test cluster's store: a throwaway PostgreSQL
provider=postgresql
host=$($pg.Host)
port=$($pg.Port)
database=postgres
username=postgres
password=$pgPassword
connection-timeout-seconds=10
"@
    # Each node's rserver: a listener on a free loopback port, named by www-address and www-port in its rserver.conf,
    # which the heartbeat connects to (a node whose rserver does not answer is reported Offline).
    $script:rservers = [Collections.Generic.List[Net.Sockets.TcpListener]]::new()
    function Open-Rserver([int] $Port = 0) {
        $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, $Port)
        $listener.Start()
        $listener
    }
    # (Loop variables here would be seen by every block below: their names are unique.)
    $script:roots = foreach ($nodeNumber in 1, 2) {
        $nodeRoot = Join-Path $work "node$nodeNumber"
        New-Item -ItemType Directory -Force -Path $nodeRoot | Out-Null
        Copy-Item -Path (Join-Path $repoRoot 'examples' 'etc-rstudio' '*') -Destination $nodeRoot
        Set-WbBalancer -ConfigRoot $nodeRoot -Method sessions -WwwHostName $addresses[$nodeNumber - 1] -Confirm:$false
        Set-Content -LiteralPath (Join-Path $nodeRoot 'secure-cookie-key') -Value $clusterKey
        Set-Content -LiteralPath (Join-Path $nodeRoot 'database.conf') -Value $databaseConf
        $rservers.Add((Open-Rserver))
        Add-Content -LiteralPath (Join-Path $nodeRoot 'rserver.conf') -Value "www-address=127.0.0.1`nwww-port=$($rservers[-1].LocalEndpoint.Port)"
        $nodeRoot
    }
    $script:schemaStatus = Initialize-WbDatabase @db -Confirm:$false

    function Invoke-Psql([string] $Sql, [string] $Database = 'postgres') {
        $env:PGPASSWORD = $pgPassword
        try { & $psql -X -q -A -t -h $pg.Host -p $pg.Port -U postgres -d $Database -c $Sql }
        finally { Remove-Item Env:PGPASSWORD -ErrorAction SilentlyContinue }
    }

    function Get-StoreCount([string] $Where = 'true') {
        [int](Invoke-Psql "SELECT count(*) FROM wbadmin.session WHERE $Where")
    }

    # Both demo nodes registered and heartbeating, the cluster defined by their key, no other node, no active session.
    function Initialize-TestCluster {
        Get-WbSession @db | Remove-WbSession @db
        Get-WbNode @db | Where-Object Host -NotIn $hosts | Remove-WbNode @db -Force -Confirm:$false
        Reset-WbCluster @db -Confirm:$false
        foreach ($root in $roots) { Register-WbNode -ConfigRoot $root @db -WarningAction SilentlyContinue | Out-Null }
        Get-WbNode @db | Where-Object Draining | Resume-WbNode @db
    }

    # Registers these nodes again, which reports them Online now (no rserver probe, unlike a heartbeat): on a
    # loaded machine a Describe can outlast the 30 s after which a node registered in its BeforeAll counts as Offline.
    function Register-TestNode([string[]] $Root) {
        foreach ($r in $Root) { Register-WbNode -ConfigRoot $r @db -WarningAction SilentlyContinue | Out-Null }
    }

    function Get-NodeId([int] $Index) {
        (Get-WbNode @db -HostName $hosts[$Index]).Id
    }

    # A fresh copy of examples/etc-rstudio (with the cluster's key), for the tests that change files.
    function Copy-ExampleRoot([string] $Name = [guid]::NewGuid().ToString('N')) {
        $root = Join-Path $TestDrive $Name
        New-Item -ItemType Directory -Path $root | Out-Null
        Copy-Item -Path (Join-Path $repoRoot 'examples' 'etc-rstudio' '*') -Destination $root
        Set-Content -LiteralPath (Join-Path $root 'secure-cookie-key') -Value $clusterKey
        $root
    }

    # An executable /bin/sh balancer script in $TestDrive.
    function Get-BalancerScript([string] $Body, [string] $Name = "balancer-$([guid]::NewGuid().ToString('N')).sh") {
        $path = Join-Path $TestDrive $Name
        Set-Content -LiteralPath $path -Value "#!/bin/sh`n$Body"
        & chmod '+x' $path
        $path
    }

    # Every file of a directory (hidden ones too) with the SHA-256 of its bytes.
    function Get-FileSnapshot([string] $Path) {
        $snapshot = [ordered]@{}
        foreach ($file in Get-ChildItem -LiteralPath $Path -Force -File | Sort-Object Name) {
            $snapshot[$file.Name] = (Get-FileHash -LiteralPath $file.FullName -Algorithm SHA256).Hash
        }
        $snapshot
    }

    # The error record a command (run with -ErrorAction Stop) ends with; the test fails when it succeeds.
    function Get-StopError([scriptblock] $Command) {
        try { $null = & $Command } catch { return $_ }
        throw "An error was expected, but this succeeded: {$Command}"
    }

    function Get-Completion([string] $Line) {
        @((TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches)
    }

    function Wait-Until([scriptblock] $Condition, [double] $TimeoutSec = 10) {
        $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSec)
        while ([DateTime]::UtcNow -lt $deadline) {
            if (& $Condition) { return $true }
            Start-Sleep -Milliseconds 25
        }
        [bool](& $Condition)
    }

    function Get-VerboseMessage([scriptblock] $Command) {
        @(& $Command 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
    }

    Initialize-TestCluster
}

AfterAll {
    if ($rservers) { $rservers | ForEach-Object Stop }
    if ($pg) { $pg.Dispose() }
}

Describe 'Get-WbConfig' -Tag 'Cmdlets' {
    It 'lists every setting of the four cluster files with its file and line' {
        $entries = Get-WbConfig -ConfigRoot $roots[0]
        $entries | Should -Not -BeNullOrEmpty
        $entries[0] | Should -BeOfType [WorkbenchAdmin.Model.ConfigEntry]
        @($entries.File | Select-Object -Unique) | Should -Be @('rserver.conf', 'launcher.conf', 'database.conf', 'load-balancer')
        $enabled = $entries | Where-Object Key -EQ 'load-balancing-enabled'
        $enabled.Value | Should -Be '1'
        $enabled.Line | Should -Be 3
        $enabled.Path | Should -Be (Join-Path $roots[0] 'rserver.conf')
    }

    It 'masks the database password in objects and in the view' {
        $password = Get-WbConfig -ConfigRoot $roots[0] -File database.conf -Key password
        $password.Value | Should -Be '********'
        (Get-WbConfig -ConfigRoot $roots[0] | Out-String) | Should -Not -BeLike "*$pgPassword*"
    }

    It 'selects with -File and -Key (positional, with wildcards) and -Section' {
        $entries = Get-WbConfig launcher.conf 'p*' -Section server -ConfigRoot $roots[0]
        $entries.Key | Should -Be @('port')
        $entries.Value | Should -Be '5559'
        (Get-WbConfig -ConfigRoot $roots[0] -File '*.conf' -Key provider).File | Should -Be 'database.conf'
    }

    It 'takes -ConfigRoot by property name from piped objects (Get-WbBalancer output)' {
        $entries = Get-WbBalancer -ConfigRoot $roots[1] | Get-WbConfig -File load-balancer -Key www-host-name
        $entries.Value | Should -Be $addresses[1]
    }

    It 'a file named with -File that does not exist is ConfigFileNotFound, ObjectNotFound' {
        $e = Get-StopError { Get-WbConfig -ConfigRoot $roots[0] -File nosuch.conf -ErrorAction Stop }
        $e.FullyQualifiedErrorId | Should -BeLike 'ConfigFileNotFound,*'
        $e.CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'a malformed file is ConfigSyntaxError, ParserError, naming the file and the line' {
        $root = Copy-ExampleRoot
        Set-Content -LiteralPath (Join-Path $root 'launcher.conf') -Value "[server`naddress=0.0.0.0"
        $e = Get-StopError { Get-WbConfig -ConfigRoot $root -ErrorAction Stop }
        $e.FullyQualifiedErrorId | Should -BeLike 'ConfigSyntaxError,*'
        $e.CategoryInfo.Category | Should -Be 'ParserError'
        $e.Exception.Message | Should -BeLike "*launcher.conf:1:*"
    }
}

Describe 'Get-WbConfig reads the files as Workbench does' -Tag 'Cmdlets' {
    BeforeAll {
        $script:marker = 's3cret-PW-marker'
    }

    It 'masks the password of the database config file rserver.conf names, whatever its name' {
        $root = Copy-ExampleRoot
        Set-Content -LiteralPath (Join-Path $root 'db-prod.conf') -Value "provider=postgresql`npassword=$marker`nconnection-uri=postgresql://wb:$marker@pg/rstudio"
        Add-Content -LiteralPath (Join-Path $root 'rserver.conf') -Value 'database-config-file=db-prod.conf'
        $entries = Get-WbConfig -ConfigRoot $root -File db-prod.conf
        ($entries | Where-Object Key -EQ 'password').Value | Should -Be '********'
        ($entries | Where-Object Key -EQ 'connection-uri').Value | Should -Be 'postgresql://wb:********@pg/rstudio'
        (Get-WbConfig -ConfigRoot $root -File * 2>&1 | Out-String -Width 500) | Should -Not -BeLike "*$marker*"
    }

    It 'reads a comment after a value as Workbench does, and keeps it when the value changes' {
        $root = Copy-ExampleRoot
        Add-Content -LiteralPath (Join-Path $root 'rserver.conf') -Value 'www-port=8787 # the default'
        (Get-WbConfig -ConfigRoot $root -File rserver.conf -Key www-port).Value | Should -Be '8787'
        $lb = Join-Path $root 'load-balancer'
        Set-Content -LiteralPath $lb -Value "balancer=sessions # until the custom script is ready`nwww-host-name=node1.example.com:8787"
        (Get-WbBalancer -ConfigRoot $root).Method | Should -Be 'sessions'
        Set-WbBalancer -ConfigRoot $root -Method user-hash -Confirm:$false
        (Get-Content -LiteralPath $lb)[0] | Should -BeExactly 'balancer=user-hash # until the custom script is ready'
        (Get-WbBalancer -ConfigRoot $root).Method | Should -Be 'user-hash'
    }

    It 'never lists, reads or completes the secure-cookie-key file rserver.conf names' {
        $root = Copy-ExampleRoot
        $keyFile = Join-Path $root 'cookie.key'
        Set-Content -LiteralPath $keyFile -Value "${marker}AAAA="
        Add-Content -LiteralPath (Join-Path $root 'rserver.conf') -Value "secure-cookie-key-file=$keyFile"
        $all = Get-WbConfig -ConfigRoot $root -File * 2>&1
        $all.File | Should -Not -Contain 'cookie.key'
        ($all | Out-String -Width 500) | Should -Not -BeLike "*$marker*"
        $e = Get-StopError { Get-WbConfig -ConfigRoot $root -File cookie.key -ErrorAction Stop }
        $e.FullyQualifiedErrorId | Should -BeLike 'ConfigFileNotReadable,*'
        $e.Exception.Message | Should -Not -BeLike "*$marker*"
        @((Get-Completion "Get-WbConfig -ConfigRoot '$root' -File ").CompletionText) | Should -Not -Contain 'cookie.key'
        Get-Completion "Get-WbConfig -ConfigRoot '$root' -File coo" | Should -BeNullOrEmpty
    }
}

Describe 'Get-WbBalancer and Set-WbBalancer' -Tag 'Cmdlets' {
    BeforeEach {
        $script:balancerRoot = Copy-ExampleRoot
    }

    It 'Get-WbBalancer reports the method, the load-balancing state and the address (positional -ConfigRoot)' {
        $setting = Get-WbBalancer $balancerRoot
        $setting | Should -BeOfType [WorkbenchAdmin.Model.BalancerSetting]
        $setting.Method | Should -Be 'sessions'
        "$($setting.LoadBalancing)" | Should -Be 'Enabled'
        $setting.EffectiveWwwHostName | Should -Be 'node1.example.com:8787'
        $setting.ConfigRoot | Should -Be $balancerRoot
    }

    It 'Set-WbBalancer -WhatIf leaves every file byte for byte' {
        $before = Get-FileSnapshot $balancerRoot
        Set-WbBalancer -ConfigRoot $balancerRoot -Method user-hash -WwwHostName other.example:8787 -UseIPAddress -WhatIf
        $after = Get-FileSnapshot $balancerRoot
        foreach ($name in $before.Keys) { $after[$name] | Should -Be $before[$name] -Because "$name must not change under -WhatIf" }
    }

    It 'Set-WbBalancer -WhatIf creates no file in the configuration root (not even its lock file)' {
        $before = Get-FileSnapshot $balancerRoot
        Set-WbBalancer -ConfigRoot $balancerRoot -Method user-hash -WhatIf
        @((Get-FileSnapshot $balancerRoot).Keys) | Should -Be @($before.Keys)
    }

    It 'Set-WbBalancer -Confirm:$false changes only the lines it must' {
        $lbPath = Join-Path $balancerRoot 'load-balancer'
        $rsPath = Join-Path $balancerRoot 'rserver.conf'
        $rserver = [IO.File]::ReadAllText($rsPath).Replace('load-balancing-enabled=1', 'load-balancing-enabled=0')
        [IO.File]::WriteAllText($rsPath, $rserver)
        $lb = [IO.File]::ReadAllText($lbPath)
        Set-WbBalancer -ConfigRoot $balancerRoot -Method user-hash -Confirm:$false
        [IO.File]::ReadAllText($lbPath) | Should -BeExactly $lb.Replace('balancer=sessions', 'balancer=user-hash')
        [IO.File]::ReadAllText($rsPath) | Should -BeExactly $rserver.Replace('load-balancing-enabled=0', 'load-balancing-enabled=1')
    }

    It 'Set-WbBalancer -PassThru writes the new setting as Get-WbBalancer reads it' {
        $setting = Set-WbBalancer -ConfigRoot $balancerRoot -Method system-load -WwwHostName node7.wbtest.example:8787 -PassThru -Confirm:$false
        $setting.Method | Should -Be 'system-load'
        $setting.EffectiveWwwHostName | Should -Be 'node7.wbtest.example:8787'
        (Get-WbBalancer -ConfigRoot $balancerRoot).Method | Should -Be 'system-load'
    }

    It 'Set-WbBalancer -UseIPAddress turns the option on and -UseIPAddress:$false turns it off' {
        (Set-WbBalancer -ConfigRoot $balancerRoot -UseIPAddress -PassThru -Confirm:$false).UseIPAddress | Should -BeTrue
        (Set-WbBalancer -ConfigRoot $balancerRoot -UseIPAddress:$false -PassThru -Confirm:$false).UseIPAddress | Should -BeFalse
    }

    It 'Set-WbBalancer -Method custom -ScriptPath records the script' {
        $balancerScript = Get-BalancerScript -Body 'echo "${RSTUDIO_NODES%%,*}"'
        $setting = Set-WbBalancer -ConfigRoot $balancerRoot -Method custom -ScriptPath $balancerScript -PassThru -Confirm:$false
        $setting.ScriptPath | Should -Be $balancerScript
        $setting.ScriptExecutable | Should -BeTrue
    }

    It 'an unknown method is InvalidBalancingMethod, InvalidArgument, and writes nothing' {
        $before = Get-FileSnapshot $balancerRoot
        $e = Get-StopError { Set-WbBalancer -ConfigRoot $balancerRoot -Method round-robin -Confirm:$false -ErrorAction Stop }
        $e.FullyQualifiedErrorId | Should -BeLike 'InvalidBalancingMethod,*'
        $e.CategoryInfo.Category | Should -Be 'InvalidArgument'
        foreach ($name in $before.Keys) { (Get-FileSnapshot $balancerRoot)[$name] | Should -Be $before[$name] }
    }

    It 'a configuration root that does not exist is ConfigRootNotFound, ObjectNotFound' {
        $e = Get-StopError { Set-WbBalancer -ConfigRoot (Join-Path $TestDrive 'no-such-root') -Method sessions -Confirm:$false -ErrorAction Stop }
        $e.FullyQualifiedErrorId | Should -BeLike 'ConfigRootNotFound,*'
        $e.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        Join-Path $TestDrive 'no-such-root' | Should -Not -Exist
    }
}

Describe 'Paths relative to the current PowerShell location' -Tag 'Cmdlets' {
    BeforeEach {
        # The process directory stays elsewhere: only PowerShell's location names the directory.
        $script:processDirectory = [Environment]::CurrentDirectory
        Push-Location $work
        [Environment]::CurrentDirectory = '/'
    }

    AfterEach {
        Pop-Location
        [Environment]::CurrentDirectory = $processDirectory
    }

    It 'Get-WbConfig -ConfigRoot ./node1 reads that directory' {
        [Environment]::CurrentDirectory | Should -Not -Be $work
        $entry = Get-WbConfig -ConfigRoot ./node1 -File load-balancer -Key www-host-name
        $entry.Value | Should -Be $addresses[0]
        $entry.Path | Should -Be (Join-Path $work 'node1' 'load-balancer')
    }

    It 'Set-WbBalancer -ConfigRoot edits the directory under the current location' {
        Copy-Item -Recurse -Path (Join-Path $repoRoot 'examples' 'etc-rstudio') -Destination (Join-Path $work 'relative-edit')
        Set-WbBalancer -ConfigRoot ./relative-edit -Method user-hash -Confirm:$false
        (Get-WbBalancer -ConfigRoot (Join-Path $work 'relative-edit')).Method | Should -Be 'user-hash'
    }

    It 'Test-WbBalancerScript -ScriptPath ./script runs the script under the current location' {
        $balancerScript = Get-BalancerScript -Body 'echo "${RSTUDIO_NODES%%,*}"' -Name 'relative-balancer.sh'
        Move-Item -LiteralPath $balancerScript -Destination (Join-Path $work 'relative-balancer.sh')
        $results = Test-WbBalancerScript -ScriptPath ./relative-balancer.sh -UserName alice -Node a.example:8787
        $results.Passed | Should -BeTrue
        $results.ScriptPath | Should -Be (Join-Path $work 'relative-balancer.sh')
    }

    It 'a store cmdlet finds database.conf under a relative -ConfigRoot' {
        $nodes = Get-WbNode -ConfigRoot ./node2 -WarningAction SilentlyContinue
        @($nodes | ForEach-Object Address | Sort-Object) | Should -Be @($addresses)
    }
}

Describe 'Invoke-WbBalanceDecision' -Tag 'Cmdlets' {
    BeforeAll {
        Initialize-TestCluster
        # The README's three nodes: node3 has the fewest sessions with node2 and the lowest load per core.
        $script:candidates = @(
            [WorkbenchAdmin.Model.NodeCandidate]@{ Host = 'node1.example.com'; ActiveSessions = 12; Load5 = 3.5; Cores = 8 }
            [WorkbenchAdmin.Model.NodeCandidate]@{ Host = 'node2.example.com'; ActiveSessions = 4; Load5 = 7.9; Cores = 8 }
            [WorkbenchAdmin.Model.NodeCandidate]@{ Host = 'node3.example.com'; ActiveSessions = 4; Load5 = 1.2; Cores = 4 }
        )
    }

    It 'consistent-hash and bounded-hash decide and explain like the built-in methods' {
        $consistent = Invoke-WbBalanceDecision -UserName alice -Method consistent-hash -Node $candidates
        $bounded = Invoke-WbBalanceDecision -UserName alice -Method bounded-hash -BalanceFactor 1.5 -Node $candidates
        $consistent.Reason | Should -BeLike 'highest rendezvous weight*'
        $bounded.Reason | Should -BeLike 'choice * in the user''s rendezvous order*1.5 * the average*'
        $bounded.Node | Should -BeIn $candidates.ForEach({ $_.ToString() })
    }

    It 'a drained node is never chosen and a full one is skipped, for every method' {
        $drained = $candidates | ForEach-Object { [WorkbenchAdmin.Model.NodeCandidate]@{ Host = $_.Host; ActiveSessions = $_.ActiveSessions; Load5 = $_.Load5; Cores = $_.Cores } }
        $drained[2].Draining = $true
        foreach ($method in 'sessions', 'system-load', 'user-hash', 'consistent-hash', 'bounded-hash') {
            $d = 1..20 | ForEach-Object { "user$_" } | Invoke-WbBalanceDecision -Method $method -Node $drained -MaxSessionsPerNode 10
            $d.Node | Should -Not -Contain 'node3.example.com:8787' -Because "$method must not choose a drained node"
            $d.Node | Should -Not -Contain 'node1.example.com:8787' -Because "$method must skip a full node (12 of 10)"
        }
    }

    It 'fails with AllNodesFull rather than overload a node' {
        $e = { Invoke-WbBalanceDecision -UserName u -Node $candidates -MaxSessionsPerNode 4 -ErrorAction Stop } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'AllNodesFull,*'
        $e.CategoryInfo.Category | Should -Be 'LimitsExceeded'
    }

    It 'completes -Method with the module''s policies too' {
        $line = 'Invoke-WbBalanceDecision -UserName u -Method con'
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be @('consistent-hash')
    }

    It 'sessions picks the node with the fewest sessions, ties to the lower load per core' {
        $d = Invoke-WbBalanceDecision -UserName alice -Method sessions -Node $candidates
        $d | Should -BeOfType [WorkbenchAdmin.Model.BalanceDecision]
        $d.Node | Should -Be 'node3.example.com:8787'
        $d.Candidates | Should -HaveCount 3
        @($d.Candidates | Where-Object Chosen).Node | Should -Be 'node3.example.com:8787'
    }

    It 'system-load picks the lowest 5-minute load per core where sessions would not' {
        $two = $candidates[0], $candidates[1]
        (Invoke-WbBalanceDecision -UserName bob -Method system-load -Node $two).Node | Should -Be 'node1.example.com:8787'
        (Invoke-WbBalanceDecision -UserName bob -Method sessions -Node $two).Node | Should -Be 'node2.example.com:8787'
    }

    It 'user-hash takes CityHash64 of the user name modulo the online nodes' {
        $d = Invoke-WbBalanceDecision -UserName alice -Method user-hash -Node $candidates
        '{0:x16}' -f $d.Hash | Should -Be '8c84811dffd0a905'
        $d.Node | Should -Be 'node3.example.com:8787'
        $d.Reason | Should -BeLike '*CityHash64("alice")*'
    }

    It '-Node takes host:port strings' {
        $d = Invoke-WbBalanceDecision -UserName alice -Method sessions -Node 'a.wbtest.example:8787', 'b.wbtest.example:9999'
        $d.Candidates.Node | Should -Be @('a.wbtest.example:8787', 'b.wbtest.example:9999')
    }

    It 'user names piped by value and by property name are each decided' {
        $byValue = 'alice', 'bob' | Invoke-WbBalanceDecision -Node $candidates
        $byValue.UserName | Should -Be @('alice', 'bob')
        $byName = [pscustomobject]@{ UserName = 'carol' }, [pscustomobject]@{ UserName = 'dave' } | Invoke-WbBalanceDecision -Node $candidates
        $byName.UserName | Should -Be @('carol', 'dave')
    }

    It 'without -Node the candidates are the store''s nodes with their live session counts' {
        $first = New-WbSession -UserName decider @db
        $d = Invoke-WbBalanceDecision -UserName next @db -ConfigRoot $roots[0]
        $d.Node | Should -Not -Be $first.Node
        @($d.Candidates.Node | Sort-Object) | Should -Be @($addresses)
        ($d.Candidates | Where-Object Node -EQ $first.Node).ActiveSessions | Should -Be 1
        $first | Remove-WbSession @db
    }

    It 'Get-WbNode | Invoke-WbBalanceDecision -UserName u decides among the piped nodes only' {
        $busy = New-WbSession -UserName busy @db
        $loaded = Get-WbNode @db -Id $busy.NodeId
        (Invoke-WbBalanceDecision -UserName u @db).Node | Should -Not -Be $loaded.Address -Because 'the store alone would choose the idle node'
        $d = Get-WbNode @db -Id $loaded.Id | Invoke-WbBalanceDecision -UserName u @db
        $d.Node | Should -Be $loaded.Address
        $d.Candidates | Should -HaveCount 1
        $all = Get-WbNode @db | Invoke-WbBalanceDecision -UserName u @db
        @($all.Candidates.Node | Sort-Object) | Should -Be @($addresses)
        $busy | Remove-WbSession @db
    }

    It 'the custom method runs a real script and takes the node it prints' {
        $balancerScript = Get-BalancerScript -Body 'echo "  ${RSTUDIO_NODES##*,}  "'
        $d = Invoke-WbBalanceDecision -UserName alice -Method custom -ScriptPath $balancerScript -Node $candidates
        $d.Node | Should -Be 'node3.example.com:8787'
        $d.ScriptOutput | Should -Be 'node3.example.com:8787'
    }

    It 'a custom script that exits non-zero is BalancerScriptNonZeroExit, never another method' {
        $balancerScript = Get-BalancerScript -Body "echo 'no capacity' >&2`nexit 3"
        $e = Get-StopError { Invoke-WbBalanceDecision -UserName alice -Method custom -ScriptPath $balancerScript -Node $candidates -ErrorAction Stop }
        $e.FullyQualifiedErrorId | Should -BeLike 'BalancerScriptNonZeroExit,*'
        $e.CategoryInfo.Category | Should -Be 'InvalidResult'
        $e.Exception.Message | Should -BeLike "*$balancerScript*no capacity*"
    }

    It 'a custom script whose #! interpreter another user owns is BalancerScriptUnsafe and never runs' {
        $dir = (New-Item -ItemType Directory -Path (Join-Path $TestDrive "interpreter-$([guid]::NewGuid().ToString('N'))")).FullName
        $interpreter = Join-Path $dir 'sh'
        [IO.File]::Copy('/bin/sh', $interpreter)
        & chown 65534:65534 $interpreter
        & chmod 755 $interpreter
        $marker = Join-Path $dir 'ran'
        $balancerScript = Join-Path $dir 'balancer.sh'
        Set-Content -LiteralPath $balancerScript -Value "#!$interpreter`ntouch '$marker'`necho `"`${RSTUDIO_NODES%%,*}`""
        & chmod 755 $balancerScript
        $e = Get-StopError { Invoke-WbBalanceDecision -UserName alice -Method custom -ScriptPath $balancerScript -Node $candidates -ErrorAction Stop }
        $e.FullyQualifiedErrorId | Should -BeLike 'BalancerScriptUnsafe,*'
        $e.CategoryInfo.Category | Should -Be 'SecurityError'
        $e.Exception.Message | Should -BeLike "*interpreter $interpreter*uid 65534*"
        Test-Path -LiteralPath $marker | Should -BeFalse
    }

    It 'a custom script run through /usr/bin/env is refused when PATH leads to a command another user owns' {
        $planted = (New-Item -ItemType Directory -Path (Join-Path $TestDrive "path-$([guid]::NewGuid().ToString('N'))")).FullName
        [IO.File]::Copy('/bin/sh', (Join-Path $planted 'sh'))
        & chown -R 65534:65534 $planted
        & chmod 755 $planted (Join-Path $planted 'sh')
        $marker = Join-Path $TestDrive "ran-$([guid]::NewGuid().ToString('N'))"
        $balancerScript = Get-BalancerScript -Body "touch '$marker'`necho `"`${RSTUDIO_NODES%%,*}`""
        (Get-Content -LiteralPath $balancerScript -Raw).Replace('#!/bin/sh', '#!/usr/bin/env sh') | Set-Content -LiteralPath $balancerScript -NoNewline
        $path = $env:PATH
        try {
            $env:PATH = "$($planted):$path"
            $e = Get-StopError { Invoke-WbBalanceDecision -UserName alice -Method custom -ScriptPath $balancerScript -Node $candidates -ErrorAction Stop }
            $e.FullyQualifiedErrorId | Should -BeLike 'BalancerScriptUnsafe,*'
            $e.Exception.Message | Should -BeLike "*$planted*"
            Test-Path -LiteralPath $marker | Should -BeFalse
            $env:PATH = $path
            (Invoke-WbBalanceDecision -UserName alice -Method custom -ScriptPath $balancerScript -Node $candidates).Node | Should -Be 'node1.example.com:8787' -Because '#!/usr/bin/env sh through root''s own PATH runs'
            Test-Path -LiteralPath $marker | Should -BeTrue
        }
        finally { $env:PATH = $path }
    }

    It 'no online candidate is NoCandidateNode, ResourceUnavailable' {
        $offline = [WorkbenchAdmin.Model.NodeCandidate]@{ Host = 'down.wbtest.example'; Online = $false }
        $e = Get-StopError { Invoke-WbBalanceDecision -UserName alice -Node $offline -ErrorAction Stop }
        $e.FullyQualifiedErrorId | Should -BeLike 'NoCandidateNode,*'
        $e.CategoryInfo.Category | Should -Be 'ResourceUnavailable'
    }

    It 'an unknown -Method is InvalidBalancingMethod, InvalidArgument' {
        $e = Get-StopError { Invoke-WbBalanceDecision -UserName alice -Method round-robin -Node $candidates -ErrorAction Stop }
        $e.FullyQualifiedErrorId | Should -BeLike 'InvalidBalancingMethod,*'
        $e.CategoryInfo.Category | Should -Be 'InvalidArgument'
    }
}

Describe 'Test-WbBalancerScript' -Tag 'Cmdlets' {
    It 'a script that prints one of RSTUDIO_NODES passes every sample run' {
        $balancerScript = Get-BalancerScript -Body 'echo "${RSTUDIO_NODES%%,*}"'
        $results = Test-WbBalancerScript -ScriptPath $balancerScript
        $results | Should -HaveCount 9
        $results[0] | Should -BeOfType [WorkbenchAdmin.Model.BalancerScriptTestResult]
        @($results | Where-Object { -not $_.Passed }) | Should -HaveCount 0
        $results[0].Chosen | Should -Be 'node1.example.com:8787'
    }

    It '-UserName and -Node replace the samples' {
        $balancerScript = Get-BalancerScript -Body 'echo "${RSTUDIO_NODES##*,}"'
        $results = Test-WbBalancerScript -ScriptPath $balancerScript -UserName alice, bob -Node a.wbtest.example:8787, b.wbtest.example:8787
        $results.UserName | Should -Be @('alice', 'bob')
        $results.Nodes | Select-Object -Unique | Should -Be 'a.wbtest.example:8787,b.wbtest.example:8787'
        $results.Chosen | Select-Object -Unique | Should -Be 'b.wbtest.example:8787'
    }

    It 'a script that prints a node not in the list fails with UnknownNode' {
        $balancerScript = Get-BalancerScript -Body 'echo elsewhere.example:8787'
        $results = Test-WbBalancerScript -ScriptPath $balancerScript -UserName alice -Node a.wbtest.example:8787
        $results.Passed | Should -BeFalse
        $results.Failure | Should -Be 'UnknownNode'
        $results.Message | Should -BeLike '*elsewhere.example:8787*'
    }

    It 'a script that is not executable fails once, with NotExecutable' {
        $balancerScript = Get-BalancerScript -Body 'echo x'
        & chmod 'a-x' $balancerScript
        $results = @(Test-WbBalancerScript -ScriptPath $balancerScript)
        $results | Should -HaveCount 1
        $results[0].Failure | Should -Be 'NotExecutable'
    }

    It 'a script that outlives -TimeoutSec is killed with every process it started' {
        $marker = "wbtimeout$([guid]::NewGuid().ToString('N'))"
        $sleep = Join-Path $TestDrive "sleep-$marker"
        & ln -s (Get-Command sleep -CommandType Application | Select-Object -First 1).Source $sleep
        $balancerScript = Get-BalancerScript -Body "'$sleep' 30`necho late"
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $results = Test-WbBalancerScript -ScriptPath $balancerScript -UserName alice -Node a.wbtest.example:8787 -TimeoutSec 0.5
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 5
        $results.Failure | Should -Be 'Timeout'
        @(& pgrep -f $marker) | Should -HaveCount 0
    }

    It 'takes -ScriptPath and -ConfigRoot from Set-WbBalancer -PassThru output' {
        $root = Copy-ExampleRoot
        $balancerScript = Get-BalancerScript -Body 'echo "${RSTUDIO_NODES%%,*}"'
        $results = Set-WbBalancer -ConfigRoot $root -Method custom -ScriptPath $balancerScript -PassThru -Confirm:$false | Test-WbBalancerScript
        $results | Should -HaveCount 9
        $results.ScriptPath | Select-Object -Unique | Should -Be $balancerScript
    }
}

Describe 'Initialize-WbDatabase' -Tag 'Cmdlets' {
    BeforeAll {
        Invoke-Psql 'CREATE DATABASE wbfresh' | Out-Null
        $script:fresh = $pg.ConnectionString('wbfresh')
        $script:schemaCount = { [int](Invoke-Psql "SELECT count(*) FROM information_schema.schemata WHERE schema_name = 'wbadmin'" -Database wbfresh) }
    }

    It '-WhatIf creates nothing' {
        Initialize-WbDatabase -ConnectionString $fresh -WhatIf | Should -BeNullOrEmpty
        & $schemaCount | Should -Be 0
    }

    It 'before it, a store cmdlet is DatabaseSchemaOutdated, NotInstalled, and says to run it' {
        $e = Get-StopError { Get-WbNode -ConnectionString $fresh -ErrorAction Stop }
        $e.FullyQualifiedErrorId | Should -BeLike 'DatabaseSchemaOutdated,*'
        $e.CategoryInfo.Category | Should -Be 'NotInstalled'
        $e.Exception.Message | Should -BeLike '*run Initialize-WbDatabase against it*'
    }

    It '-Confirm:$false creates the schema at its latest version, recording each migration' {
        $status = Initialize-WbDatabase -ConnectionString $fresh -Confirm:$false
        $status | Should -BeOfType [WorkbenchAdmin.Model.DatabaseSchemaStatus]
        $status.Database | Should -Be 'wbfresh'
        $status.Version | Should -Be 4
        $status.Applied | Should -HaveCount 4
        & $schemaCount | Should -Be 1
        Invoke-Psql 'SELECT count(*) FROM wbadmin.schema_version' -Database wbfresh | Should -Be '4'
    }

    It 'a second run applies nothing' {
        $status = Initialize-WbDatabase -ConnectionString $fresh -Confirm:$false
        $status.Version | Should -Be 4
        $status.Applied | Should -HaveCount 0
    }

    It 'a wrong password is DatabaseAuthenticationFailed, AuthenticationError' {
        $wrong = $cs -replace 'Password=[^;]+', 'Password=not-the-password'
        $e = Get-StopError { Initialize-WbDatabase -ConnectionString $wrong -Confirm:$false -ErrorAction Stop }
        $e.FullyQualifiedErrorId | Should -BeLike 'DatabaseAuthenticationFailed,*'
        $e.CategoryInfo.Category | Should -Be 'AuthenticationError'
        $e.Exception.Message | Should -Not -BeLike '*not-the-password*'
    }

    It '-Credential replaces the user name and password of the connection string' {
        $wrong = $cs -replace 'Password=[^;]+', 'Password=not-the-password'
        $credential = [pscredential]::new('postgres', [System.Net.NetworkCredential]::new('', $pgPassword).SecurePassword)
        (Initialize-WbDatabase -ConnectionString $wrong -Credential $credential -Confirm:$false).Version | Should -Be 4
    }

    It 'a database that does not exist is DatabaseNotFound, ConnectionError' {
        $e = Get-StopError { Initialize-WbDatabase -ConnectionString $pg.ConnectionString('no_such_db') -Confirm:$false -ErrorAction Stop }
        $e.FullyQualifiedErrorId | Should -BeLike 'DatabaseNotFound,*'
        $e.CategoryInfo.Category | Should -Be 'ConnectionError'
    }
}

Describe 'Nodes' -Tag 'Cmdlets' {
    BeforeAll {
        Initialize-TestCluster
        # A third node of the cluster, a node with another secure-cookie-key, and one that never registers.
        $node3 = Copy-ExampleRoot 'node3'
        Set-WbBalancer -ConfigRoot $node3 -Method sessions -WwwHostName node3.wbtest.example:8787 -Confirm:$false
        Set-Content -LiteralPath (Join-Path $node3 'database.conf') -Value $databaseConf
        $rogue = Copy-ExampleRoot 'rogue'
        Set-WbBalancer -ConfigRoot $rogue -WwwHostName node4.wbtest.example:8787 -Confirm:$false
        Set-Content -LiteralPath (Join-Path $rogue 'secure-cookie-key') -Value ([Convert]::ToHexString([Security.Cryptography.RandomNumberGenerator]::GetBytes(32)))
        $stranger = Copy-ExampleRoot 'stranger'
        Set-WbBalancer -ConfigRoot $stranger -WwwHostName node5.wbtest.example:8787 -Confirm:$false
    }

    AfterAll {
        Initialize-TestCluster
    }

    It 'Register-WbNode -WhatIf records no node' {
        Register-WbNode -ConfigRoot $node3 @db -WhatIf -WarningAction SilentlyContinue | Should -BeNullOrEmpty
        Get-WbNode @db -HostName 'node3.*' | Should -BeNullOrEmpty
    }

    It 'Register-WbNode joins a node and writes it as Get-WbNode shows it' {
        $node = Register-WbNode -ConfigRoot $node3 @db -WarningAction SilentlyContinue
        $node | Should -BeOfType [WorkbenchAdmin.Model.NodeInfo]
        $node.Address | Should -Be 'node3.wbtest.example:8787'
        $node.Status | Should -Be 'Online'
        (Get-WbNode @db -Id $node.Id).Address | Should -Be $node.Address
    }

    It 'a node with another secure-cookie-key joins as Invalid secure cookie key, with a warning' {
        $node = Register-WbNode -ConfigRoot $rogue @db -WarningVariable warnings -WarningAction SilentlyContinue
        $node.Status | Should -Be 'Invalid secure cookie key'
        ($warnings -join "`n") | Should -BeLike '*secure-cookie-key*'
    }

    It 'Update-WbNodeStatus -PassThru writes the node with a fresh heartbeat' {
        $before = (Get-WbNode @db -Id (Get-NodeId 0)).LastSeen
        Start-Sleep -Milliseconds 20
        $node = Update-WbNodeStatus -ConfigRoot $roots[0] @db -PassThru
        $node | Should -BeOfType [WorkbenchAdmin.Model.NodeInfo]
        $node.Address | Should -Be $addresses[0]
        $node.LastSeen | Should -BeGreaterThan $before
        $node.Cores | Should -BeGreaterThan 0
    }

    It 'Update-WbNodeStatus without -PassThru writes nothing to the pipeline' {
        @(Update-WbNodeStatus -ConfigRoot $roots[0] @db) | Should -HaveCount 0
    }

    It 'Update-WbNodeStatus -WhatIf leaves the heartbeat as it was' {
        $sql = "SELECT last_seen FROM wbadmin.node WHERE host = '$($hosts[1])'"
        $before = Invoke-Psql $sql
        Start-Sleep -Milliseconds 20
        Update-WbNodeStatus -ConfigRoot $roots[1] @db -PassThru -WhatIf | Should -BeNullOrEmpty
        Invoke-Psql $sql | Should -Be $before
    }

    It 'Update-WbNodeStatus -EverySec beats on a schedule until stopped (as Ctrl+C or systemd stop it)' {
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript("Import-Module '$modulePath'; Update-WbNodeStatus -ConfigRoot '$($roots[0])' -ConnectionString '$cs' -EverySec 0.2 -PassThru")
            $beats = [System.Management.Automation.PSDataCollection[psobject]]::new()
            $running = $ps.BeginInvoke([System.Management.Automation.PSDataCollection[psobject]]::new(), $beats)
            $deadline = [DateTime]::UtcNow.AddSeconds(30)
            while ($beats.Count -lt 3 -and -not $running.IsCompleted -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
            $ps.Stop()
            $ps.InvocationStateInfo.State | Should -Be 'Stopped'
            $beats.Count | Should -BeGreaterOrEqual 3
            foreach ($beat in $beats) { $beat | Should -BeOfType [WorkbenchAdmin.Model.NodeInfo] }
            # Each beat is a new heartbeat.
            $seen = @($beats | ForEach-Object LastSeen)
            for ($i = 1; $i -lt $seen.Count; $i++) { $seen[$i] | Should -BeGreaterThan $seen[$i - 1] }
        }
        finally { $ps.Dispose() }
    }

    It 'Update-WbNodeStatus -EverySec out of range is InvalidHeartbeatInterval, InvalidArgument' {
        $e = Get-StopError { Update-WbNodeStatus -ConfigRoot $roots[0] @db -EverySec 0 -ErrorAction Stop }
        $e.FullyQualifiedErrorId | Should -BeLike 'InvalidHeartbeatInterval,*'
        $e.CategoryInfo.Category | Should -Be 'InvalidArgument'
    }

    It 'Update-WbNodeStatus reports the node Offline, with a warning, while its rserver does not answer' {
        $rserver = $rservers[1]
        $port = $rserver.LocalEndpoint.Port
        Register-TestNode $roots[0]
        $rserver.Stop()
        try {
            $node = Update-WbNodeStatus -ConfigRoot $roots[1] @db -PassThru -WarningVariable warnings -WarningAction SilentlyContinue
            $node.Status | Should -Be 'Offline'
            ($warnings -join "`n") | Should -BeLike "*not answering on 127.0.0.1:$port*Offline*"
            (New-WbSession -UserName while-down @db).Node | Should -Be $addresses[0]
        }
        finally {
            $rservers[1] = Open-Rserver $port
            Get-WbSession @db -UserName while-down | Remove-WbSession @db
        }
        (Update-WbNodeStatus -ConfigRoot $roots[1] @db -PassThru).Status | Should -Be 'Online'
    }

    It 'Update-WbNodeStatus for a node that never registered is NodeNotRegistered, ObjectNotFound' {
        $e = Get-StopError { Update-WbNodeStatus -ConfigRoot $stranger @db -ErrorAction Stop }
        $e.FullyQualifiedErrorId | Should -BeLike 'NodeNotRegistered,*'
        $e.CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'Get-WbNode -Id selects nodes by id (positionally too)' {
        $id = Get-NodeId 1
        (Get-WbNode -Id $id @db).Address | Should -Be $addresses[1]
        (Get-WbNode $id @db).Address | Should -Be $addresses[1]
    }

    It 'Get-WbNode -HostName matches the host or host:port, with wildcards' {
        (Get-WbNode @db -HostName 'node2.*').Address | Should -Be $addresses[1]
        (Get-WbNode @db -HostName $addresses[0]).Address | Should -Be $addresses[0]
        @(Get-WbNode @db -HostName '*.wbtest.example:8787') | Should -HaveCount 4
    }

    It 'Get-WbNode -Status selects nodes by status' {
        Register-TestNode $roots[0], $roots[1], $node3
        (Get-WbNode @db -Status 'Invalid secure cookie key').Address | Should -Be 'node4.wbtest.example:8787'
        @(Get-WbNode @db -Status Online | ForEach-Object Address | Sort-Object) | Should -Be @($addresses[0], $addresses[1], 'node3.wbtest.example:8787')
    }

    It 'a session piped into Get-WbNode selects no node: its Id is a session id (a binding error)' {
        $session = New-WbSession -UserName not-a-node @db
        $e = Get-StopError { $session | Get-WbNode @db -ErrorAction Stop }
        $e.FullyQualifiedErrorId | Should -BeLike 'InputObjectNotBound,*'
        $session | Remove-WbSession @db
    }

    It 'Get-WbNode -Id of a node that does not exist is NodeNotFound, ObjectNotFound' {
        $e = Get-StopError { Get-WbNode @db -Id 9999 -ErrorAction Stop }
        $e.FullyQualifiedErrorId | Should -BeLike 'NodeNotFound,*'
        $e.CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'Remove-WbNode refuses an online node without -Force: NodeIsOnline, InvalidOperation' {
        $id = (Get-WbNode @db -HostName 'node3.*').Id
        $e = Get-StopError { Remove-WbNode @db -Id $id -Confirm:$false -ErrorAction Stop }
        $e.FullyQualifiedErrorId | Should -BeLike 'NodeIsOnline,*'
        $e.CategoryInfo.Category | Should -Be 'InvalidOperation'
        Get-WbNode @db -Id $id | Should -Not -BeNullOrEmpty
    }

    It 'Remove-WbNode -Id of a node that does not exist is NodeNotFound, ObjectNotFound' {
        $e = Get-StopError { Remove-WbNode @db -Id 9999 -Force -Confirm:$false -ErrorAction Stop }
        $e.FullyQualifiedErrorId | Should -BeLike 'NodeNotFound,*'
        $e.CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'Remove-WbNode -Force -WhatIf removes nothing' {
        $id = (Get-WbNode @db -HostName 'node3.*').Id
        Remove-WbNode @db -Id $id -Force -WhatIf
        Get-WbNode @db -Id $id | Should -Not -BeNullOrEmpty
    }

    It 'a session piped into Remove-WbNode is refused (a binding error) and removes no node' {
        $session = New-WbSession -UserName piped-session @db
        $count = @(Get-WbNode @db).Count
        $e = Get-StopError { $session | Remove-WbNode @db -Force -Confirm:$false -ErrorAction Stop }
        $e.Exception | Should -BeOfType [System.Management.Automation.ParameterBindingException]
        $e.FullyQualifiedErrorId | Should -BeLike 'InputObjectNotBound,*'
        @(Get-WbNode @db) | Should -HaveCount $count
        Get-WbNode @db -Id $session.NodeId | Should -Not -BeNullOrEmpty
        $session | Remove-WbSession @db
    }

    It 'Get-WbNode -HostName x | Remove-WbNode -Force -Confirm:$false removes the piped nodes and their sessions' {
        $balancerScript = Get-BalancerScript -Body 'echo node3.wbtest.example:8787'
        $session = New-WbSession -UserName on-node3 -Method custom -ScriptPath $balancerScript @db
        $session.Node | Should -Be 'node3.wbtest.example:8787'
        Get-WbNode @db -HostName 'node3.*', 'node4.*' | Remove-WbNode @db -Force -Confirm:$false
        @(Get-WbNode @db | ForEach-Object Address | Sort-Object) | Should -Be @($addresses)
        Get-WbSession @db -Id $session.Id -IncludeEnded | Should -BeNullOrEmpty
    }

    It 'Unregister-WbNode keeps the node, Offline at once, when delete-node-on-exit is not set' {
        (Register-WbNode -ConfigRoot $node3 @db -WarningAction SilentlyContinue).Status | Should -Be 'Online'
        Unregister-WbNode -ConfigRoot $node3 @db -Confirm:$false
        (Get-WbNode @db -HostName 'node3.*').Status | Should -Be 'Offline'
    }

    It 'Unregister-WbNode -WhatIf leaves the node as it was' {
        Register-WbNode -ConfigRoot $node3 @db -WarningAction SilentlyContinue | Out-Null
        Unregister-WbNode -ConfigRoot $node3 @db -WhatIf
        (Get-WbNode @db -HostName 'node3.*').Status | Should -Be 'Online'
    }

    It 'Unregister-WbNode -Force -WhatIf keeps the node' {
        Unregister-WbNode -ConfigRoot $node3 @db -Force -WhatIf
        Get-WbNode @db -HostName 'node3.*' | Should -Not -BeNullOrEmpty
    }

    It 'Unregister-WbNode removes the node when load-balancer sets delete-node-on-exit=1' {
        Add-Content -LiteralPath (Join-Path $node3 'load-balancer') -Value 'delete-node-on-exit=1'
        Unregister-WbNode -ConfigRoot $node3 @db -Confirm:$false
        Get-WbNode @db -HostName 'node3.*' | Should -BeNullOrEmpty
    }

    It 'Unregister-WbNode -Force -Confirm:$false removes the node whatever the setting' {
        $plain = Copy-ExampleRoot 'node6'
        Set-WbBalancer -ConfigRoot $plain -WwwHostName node6.wbtest.example:8787 -Confirm:$false
        Register-WbNode -ConfigRoot $plain @db -WarningAction SilentlyContinue | Out-Null
        Unregister-WbNode -ConfigRoot $plain @db -Force -Confirm:$false
        Get-WbNode @db -HostName 'node6.*' | Should -BeNullOrEmpty
    }

    It 'Reset-WbCluster -WhatIf keeps the cluster record' {
        Reset-WbCluster @db -WhatIf
        Invoke-Psql 'SELECT count(*) FROM wbadmin.cluster' | Should -Be '1'
    }

    It 'Reset-WbCluster -Confirm:$false clears it, and the next node to report defines the cluster again' {
        Reset-WbCluster @db -Confirm:$false
        Invoke-Psql 'SELECT count(*) FROM wbadmin.cluster' | Should -Be '0'
        # The node with the other key reports first: now it is the cluster, and the demo nodes are not.
        (Register-WbNode -ConfigRoot $rogue @db -WarningAction SilentlyContinue).Status | Should -Be 'Online'
        (Update-WbNodeStatus -ConfigRoot $roots[0] @db -PassThru).Status | Should -Be 'Invalid secure cookie key'
        Invoke-Psql 'SELECT count(*) FROM wbadmin.cluster' | Should -Be '1'
    }

    It 'Get-WbNode | Remove-WbNode -Force -Confirm:$false removes every node' {
        New-WbSession -UserName before-removal @db -ErrorAction SilentlyContinue | Out-Null
        Get-WbNode @db | Remove-WbNode @db -Force -Confirm:$false
        Get-WbNode @db | Should -BeNullOrEmpty
        Get-WbSession @db -IncludeEnded -UserName before-removal | Should -BeNullOrEmpty
    }
}

Describe 'Sessions' -Tag 'Cmdlets' {
    BeforeEach {
        Initialize-TestCluster
    }

    It 'user names piped in as strings each get a session, spread across the nodes' {
        $sessions = 1..4 | ForEach-Object { 'user1' } | New-WbSession @db
        $sessions | Should -HaveCount 4
        $sessions[0] | Should -BeOfType [WorkbenchAdmin.Model.SessionInfo]
        $perNode = $sessions | Group-Object Node
        $perNode | Should -HaveCount 2
        @($perNode | ForEach-Object Count) | Should -Be @(2, 2)
        Get-StoreCount "ended IS NULL AND username = 'user1'" | Should -Be 4
    }

    It 'objects with a UserName property piped in each get a session' {
        $sessions = [pscustomobject]@{ UserName = 'carol' }, [pscustomobject]@{ UserName = 'dave' } | New-WbSession @db
        $sessions.UserName | Should -Be @('carol', 'dave')
    }

    It 'New-WbSession -WhatIf records no session' {
        $before = Get-StoreCount
        'ghost', 'ghost' | New-WbSession @db -WhatIf | Should -BeNullOrEmpty
        Get-StoreCount | Should -Be $before
    }

    It 'New-WbSession writes the decision that placed the session' {
        $session = New-WbSession -UserName explained @db
        $session.Decision | Should -BeOfType [WorkbenchAdmin.Model.BalanceDecision]
        $session.Decision.Node | Should -Be $session.Node
        $session.Decision.Method | Should -Be 'sessions'
        $session.Decision.Candidates | Should -HaveCount 2
        $session.Decision.Reason | Should -Not -BeNullOrEmpty
    }

    It 'New-WbSession -ProcessId records the given process id' {
        $session = New-WbSession -UserName withpid -ProcessId 4321 @db
        $session.Pid | Should -Be 4321
        (Get-WbSession @db -Id $session.Id).Pid | Should -Be 4321
    }

    It 'New-WbSession -Method user-hash places a user where Invoke-WbBalanceDecision says' {
        $decision = Invoke-WbBalanceDecision -UserName hashed -Method user-hash @db
        $sessions = 'hashed', 'hashed', 'hashed' | New-WbSession -Method user-hash @db
        $sessions.Node | Select-Object -Unique | Should -Be $decision.Node
    }

    It 'no online node is NoCandidateNode, ResourceUnavailable, and records nothing' {
        $before = Get-StoreCount
        $e = Get-StopError { New-WbSession -UserName nowhere @db -OfflineAfterSec 0.001 -ErrorAction Stop }
        $e.FullyQualifiedErrorId | Should -BeLike 'NoCandidateNode,*'
        $e.CategoryInfo.Category | Should -Be 'ResourceUnavailable'
        Get-StoreCount | Should -Be $before
    }

    It 'Get-WbSession -UserName selects that user''s active sessions' {
        'ann', 'ann', 'ben' | New-WbSession @db | Out-Null
        $mine = Get-WbSession @db -UserName ann
        $mine | Should -HaveCount 2
        $mine.UserName | Select-Object -Unique | Should -Be 'ann'
    }

    It 'Get-WbSession -Id selects sessions by id (positionally too)' {
        $sessions = 'ida', 'idb' | New-WbSession @db
        (Get-WbSession $sessions[1].Id @db).UserName | Should -Be 'idb'
        (Get-WbSession -Id $sessions[0].Id @db).UserName | Should -Be 'ida'
    }

    It 'Get-WbNode | Get-WbSession selects the sessions of the piped nodes' {
        $sessions = 1..4 | ForEach-Object { "spread$_" } | New-WbSession @db
        $nodeId = Get-NodeId 0
        $selected = Get-WbNode @db -Id $nodeId | Get-WbSession @db
        $selected | Should -HaveCount 2
        $selected.NodeId | Select-Object -Unique | Should -Be $nodeId
        @($selected.Id | Sort-Object) | Should -Be @(($sessions | Where-Object NodeId -EQ $nodeId).Id | Sort-Object)
        (Get-WbNode @db | Get-WbSession @db) | Should -HaveCount 4
    }

    It 'Get-WbSession -UserName x | Remove-WbSession ends those sessions and frees their slots' {
        'leaver', 'leaver', 'stayer' | New-WbSession @db | Out-Null
        Get-WbSession @db -UserName leaver | Remove-WbSession @db
        Get-WbSession @db -UserName leaver | Should -BeNullOrEmpty
        (Get-WbSession @db).UserName | Should -Be 'stayer'
        ((Get-WbNode @db).ActiveSessions | Measure-Object -Sum).Sum | Should -Be 1
    }

    It 'New-WbSession output piped into Remove-WbSession ends exactly those sessions' {
        $keep = New-WbSession -UserName keep @db
        'brief', 'brief' | New-WbSession @db | Remove-WbSession @db
        (Get-WbSession @db).Id | Should -Be $keep.Id
    }

    It 'Get-WbNode -Id 2 | Remove-WbSession -Confirm:$false (node 2 piped) is refused (a binding error) and ends no session' {
        'n1', 'n2', 'n3', 'n4' | New-WbSession @db | Out-Null
        $e = Get-StopError { Get-WbNode @db -Id (Get-NodeId 1) | Remove-WbSession @db -Confirm:$false -ErrorAction Stop }
        $e.Exception | Should -BeOfType [System.Management.Automation.ParameterBindingException]
        $e.FullyQualifiedErrorId | Should -BeLike 'InputObjectNotBound,*'
        Get-StoreCount 'ended IS NULL' | Should -Be 4
    }

    It 'Remove-WbSession -WhatIf ends nothing' {
        $session = New-WbSession -UserName hypothetical @db
        $session | Remove-WbSession @db -WhatIf
        (Get-WbSession @db -Id $session.Id).Active | Should -BeTrue
    }

    It 'Remove-WbSession -Id of an ended session is SessionNotFound, ObjectNotFound' {
        $session = New-WbSession -UserName twice @db
        Remove-WbSession @db -Id $session.Id
        $e = Get-StopError { Remove-WbSession @db -Id $session.Id -ErrorAction Stop }
        $e.FullyQualifiedErrorId | Should -BeLike 'SessionNotFound,*'
        $e.CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'Get-WbSession -IncludeEnded lists ended sessions as inactive' {
        $session = New-WbSession -UserName ended-one @db
        $session | Remove-WbSession @db
        Get-WbSession @db -UserName ended-one | Should -BeNullOrEmpty
        $ended = Get-WbSession @db -UserName ended-one -IncludeEnded
        $ended.Active | Should -BeFalse
        $ended.Ended | Should -Not -BeNullOrEmpty
    }

    It 'Get-WbSession -IncludeEnded pipes into Measure-WbBalancer, which replays the history on its own nodes' {
        $placed = 'hist1', 'hist2', 'hist1', 'hist3' | New-WbSession @db
        $placed[0], $placed[1] | Remove-WbSession @db
        # Earlier Its' ended sessions stay in the store: replay only this one's.
        $results = Get-WbSession @db -IncludeEnded | Where-Object UserName -Like 'hist*' | Measure-WbBalancer -Method sessions, user-hash -Detail
        $results.Method | Should -Be 'sessions', 'user-hash'
        $results | ForEach-Object { $_.Sessions | Should -Be 4 }
        @($results[0].Series.Node | Sort-Object -Unique) | Should -Be @($addresses | Sort-Object)
    }

    It 'Measure-WbBalancer -Recorded reads the same history from the store itself' {
        $piped = Get-WbSession @db -IncludeEnded | Measure-WbBalancer -Method sessions, bounded-hash
        $direct = Measure-WbBalancer -Recorded @db -Method sessions, bounded-hash
        $direct.Method | Should -Be 'sessions', 'bounded-hash'
        $direct.Sessions | Should -Be $piped.Sessions
        $direct.PeakSessionsPerNode | Should -Be $piped.PeakSessionsPerNode
        $direct.Switches | Should -Be $piped.Switches
    }

    It 'Measure-WbBalancer with a store but not -Recorded is StoreWithoutRecorded, InvalidArgument' {
        $e = Get-StopError { Measure-WbBalancer -UserCount 5 -Days 1 @db -ErrorAction Stop }
        $e.FullyQualifiedErrorId | Should -BeLike 'StoreWithoutRecorded,*'
        $e.CategoryInfo.Category | Should -Be 'InvalidArgument'
    }
}

Describe 'Get-WbSessionLoad' -Tag 'Cmdlets' {
    BeforeAll {
        Initialize-TestCluster
        'alice', 'bob', 'carol', 'dave', 'erin' | New-WbSession @db | Out-Null
        $script:nodeLines = '^(?<address>\S+:\d+) -  Load: (?<l1>[0-9.e+-]+), (?<l5>[0-9.e+-]+), (?<l15>[0-9.e+-]+)$'
        $script:sessionLine = '^   (?<pid>\d+) - (?<user>\S+)$'
    }

    It 'reads each node with its load and its sessions from the store' {
        $loads = Get-WbSessionLoad @db
        $loads[0] | Should -BeOfType [WorkbenchAdmin.Model.NodeSessionLoad]
        @($loads | ForEach-Object Address) | Should -Be @(Get-WbNode @db | Sort-Object Id | ForEach-Object Address)
        foreach ($load in $loads) {
            $expected = Get-WbSession @db -NodeId $load.NodeId
            $load.SessionCount | Should -Be @($expected).Count
            @($load.Sessions.Pid | Sort-Object) | Should -Be @($expected.Pid | Sort-Object)
        }
    }

    It '-AsText writes the status page: "host:port -  Load: a, b, c", then "   pid - user" per session' {
        $lines = (Get-WbSessionLoad @db -AsText) -split "`n" | Where-Object { $_ }
        $sessions = Get-WbSession @db
        $nodeHeads = @($lines | Where-Object { $_ -match $nodeLines })
        $nodeHeads | Should -HaveCount 2
        @($lines | Where-Object { $_ -notmatch $nodeLines -and $_ -notmatch $sessionLine }) | Should -HaveCount 0
        $current = $null
        foreach ($line in $lines) {
            if ($line -match $nodeLines) { $current = $Matches.address; continue }
            $null = $line -match $sessionLine
            $session = $sessions | Where-Object Pid -EQ ([int]$Matches.pid)
            $session.UserName | Should -Be $Matches.user
            $session.Node | Should -Be $current
        }
    }

    It 'the default view prints the status page exactly as -AsText writes it' {
        $view = (Get-WbSessionLoad @db | Out-String) -split "`n" | Where-Object { $_.Trim() }
        $text = (Get-WbSessionLoad @db -AsText) -split "`n" | Where-Object { $_ }
        $view | Should -Be $text
    }

    It '-Summary counts the sessions without listing them' {
        $summary = Get-WbSessionLoad @db -Summary
        ($summary.SessionCount | Measure-Object -Sum).Sum | Should -Be 5
        @($summary | Where-Object { $_.Sessions.Count -gt 0 }) | Should -HaveCount 0
    }

    It 'status page lines piped in (-Text) parse into the same nodes and sessions' {
        $fromStore = Get-WbSessionLoad @db
        $parsed = (Get-WbSessionLoad @db -AsText) -split "`n" | Get-WbSessionLoad
        @($parsed | ForEach-Object Address) | Should -Be @($fromStore | ForEach-Object Address)
        @($parsed.Load5) | Should -Be @($fromStore | ForEach-Object { [double]$_.Load5.ToString('G6', [cultureinfo]::InvariantCulture) })
        @($parsed.Sessions.Pid) | Should -Be @($fromStore.Sessions.Pid)
        @($parsed.Sessions.UserName) | Should -Be @($fromStore.Sessions.UserName)
    }

    It 'a line that is neither a node nor a session is SessionLoadSyntaxError, ParserError' {
        $e = Get-StopError { 'node1:8787 -  Load: 1, 2, 3', 'garbage' | Get-WbSessionLoad -ErrorAction Stop }
        $e.FullyQualifiedErrorId | Should -BeLike 'SessionLoadSyntaxError,*'
        $e.CategoryInfo.Category | Should -Be 'ParserError'
        $e.Exception.Message | Should -BeLike "*:2:*garbage*"
    }

    It '-Uri reads a live node''s status page' {
        $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
        $listener.Start()
        $server = [powershell]::Create([System.Management.Automation.RunspaceMode]::NewRunspace)
        [void]$server.AddScript({
                param($Listener, $Body)
                $client = $Listener.AcceptTcpClient()
                $stream = $client.GetStream()
                $reader = [IO.StreamReader]::new($stream)
                while ($reader.ReadLine()) { }
                $bytes = [Text.Encoding]::UTF8.GetBytes($Body)
                $head = [Text.Encoding]::ASCII.GetBytes("HTTP/1.1 200 OK`r`nContent-Type: text/plain`r`nContent-Length: $($bytes.Length)`r`nConnection: close`r`n`r`n")
                $stream.Write($head, 0, $head.Length)
                $stream.Write($bytes, 0, $bytes.Length)
                $stream.Flush()
                $client.Close()
            }).AddParameters(@{ Listener = $listener; Body = "node9.wbtest.example:8787 -  Load: 0.5, 0.25, 0.125`n   4242 - zoe`n" })
        $handle = $server.BeginInvoke()
        try {
            $loads = Get-WbSessionLoad -Uri "http://127.0.0.1:$($listener.LocalEndpoint.Port)/load-balancer/status" -ErrorAction Stop
        }
        finally {
            $null = $handle.AsyncWaitHandle.WaitOne(5000)
            $listener.Stop()
            $server.Dispose()
        }
        $loads.Address | Should -Be 'node9.wbtest.example:8787'
        $loads.Load15 | Should -Be 0.125
        $loads.Sessions.UserName | Should -Be 'zoe'
    }

    It 'a status page that cannot be read is StatusPageUnreachable, ConnectionError' {
        $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
        $listener.Start()
        $port = $listener.LocalEndpoint.Port
        $listener.Stop()
        $e = Get-StopError { Get-WbSessionLoad -Uri "http://127.0.0.1:$port/load-balancer/status" -ErrorAction Stop }
        $e.FullyQualifiedErrorId | Should -BeLike 'StatusPageUnreachable,*'
        $e.CategoryInfo.Category | Should -Be 'ConnectionError'
    }
}

Describe 'Protect-WbDatabasePassword' -Tag 'Cmdlets' {
    BeforeEach {
        $root = Copy-ExampleRoot
        Set-Content -LiteralPath (Join-Path $root 'database.conf') -Value $databaseConf
        $script:secret = [System.Net.NetworkCredential]::new('', $pgPassword).SecurePassword
    }

    It 'writes the password encrypted with the secure-cookie-key, never in plain' {
        $value = Protect-WbDatabasePassword -ConfigRoot $root -Password $secret
        $value | Should -BeOfType [string]
        $value | Should -BeLike 'wbenc:v1:*'
        $value | Should -Not -BeLike "*$pgPassword*"
    }

    It 'takes the password from -Credential' {
        $credential = [pscredential]::new('postgres', $secret)
        Protect-WbDatabasePassword -ConfigRoot $root -Credential $credential | Should -BeLike 'wbenc:v1:*'
    }

    It '-Apply -WhatIf leaves database.conf byte for byte' {
        $before = Get-FileSnapshot $root
        Protect-WbDatabasePassword -ConfigRoot $root -Password $secret -Apply -WhatIf | Should -BeNullOrEmpty
        $after = Get-FileSnapshot $root
        foreach ($name in $before.Keys) { $after[$name] | Should -Be $before[$name] -Because "$name must not change under -WhatIf" }
    }

    It '-Apply -Confirm:$false stores it in database.conf, and the store cmdlets log in with it' {
        Protect-WbDatabasePassword -ConfigRoot $root -Password $secret -Apply -Confirm:$false | Should -BeNullOrEmpty
        $text = Get-Content -LiteralPath (Join-Path $root 'database.conf') -Raw
        $text | Should -Match '(?m)^password=wbenc:v1:'
        $text | Should -Not -BeLike "*$pgPassword*"
        $text | Should -BeLike '# The test cluster*'
        @(Get-WbNode -ConfigRoot $root -WarningVariable warnings) | Should -Not -HaveCount 0
        $warnings | Should -BeNullOrEmpty
    }

    It 'no secure-cookie-key is SecureCookieKeyMissing, ObjectNotFound' {
        Remove-Item -LiteralPath (Join-Path $root 'secure-cookie-key')
        $e = Get-StopError { Protect-WbDatabasePassword -ConfigRoot $root -Password $secret -ErrorAction Stop }
        $e.FullyQualifiedErrorId | Should -BeLike 'SecureCookieKeyMissing,*'
        $e.CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }
}

Describe 'Test-WbCluster' -Tag 'Cmdlets' {
    BeforeAll {
        Initialize-TestCluster
        'one', 'two' | New-WbSession @db | Out-Null
    }

    It 'the cross-node checks pass for two online nodes with one key and one configuration' {
        $ids = 'cluster.nodes-online', 'cluster.config-identical', 'cluster.key', 'cluster.protocol', 'cluster.session-spread'
        $results = Test-WbCluster -ConfigRoot $roots[0] @db -Check $ids
        $results[0] | Should -BeOfType [WorkbenchAdmin.Model.CheckResult]
        @($results.CheckId) | Should -Be $ids
        foreach ($r in $results) { "$($r.CheckId): $($r.Status)" | Should -Be "$($r.CheckId): Pass" -Because $r.Found }
    }

    It '-Check takes wildcards and runs only the checks it names' {
        $results = Test-WbCluster -ConfigRoot $roots[0] @db -Check 'config.*', 'cluster.c*'
        $expected = [WorkbenchAdmin.Model.CheckCatalog]::All.Id | Where-Object { $_ -like 'config.*' -or $_ -like 'cluster.c*' }
        @($results.CheckId | Select-Object -Unique) | Should -Be @($expected)
    }

    It '-Quiet writes one boolean: true when no check failed, false otherwise' {
        $pass = @(Test-WbCluster -ConfigRoot $roots[0] @db -Check cluster.key -Quiet)
        $pass | Should -HaveCount 1
        $pass[0] | Should -BeOfType [bool]
        $pass[0] | Should -BeTrue
        # The copied key is world-readable (mode 644): security.key-mode fails.
        Test-WbCluster -ConfigRoot $roots[0] @db -Check security.key-mode -Quiet | Should -BeFalse
    }

    It 'an unknown check is UnknownCheck, InvalidArgument' {
        $e = Get-StopError { Test-WbCluster -ConfigRoot $roots[0] @db -Check no.such-check -ErrorAction Stop }
        $e.FullyQualifiedErrorId | Should -BeLike 'UnknownCheck,*'
        $e.CategoryInfo.Category | Should -Be 'InvalidArgument'
    }

    Context 'with the cluster store unreachable' {
        BeforeAll {
            # A node whose database.conf names a port nothing listens on.
            $script:cut = Copy-ExampleRoot 'store-unreachable'
            $closed = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
            $closed.Start()
            $script:closedPort = $closed.LocalEndpoint.Port
            $closed.Stop()
            Set-Content -LiteralPath (Join-Path $cut 'database.conf') -Value "provider=postgresql`nhost=127.0.0.1`nport=$closedPort`npassword=x`nconnection-timeout-seconds=2"
        }

        It '-Quiet is false: a check that could not be made is a failure' {
            Test-WbCluster -ConfigRoot $cut -Check cluster.* -Quiet -WarningAction SilentlyContinue | Should -BeFalse
        }

        It 'every cross-node check Fails and says why it could not be checked' {
            $results = @(Test-WbCluster -ConfigRoot $cut -Check cluster.*, network.reachable -WarningAction SilentlyContinue)
            $results | Should -HaveCount @([WorkbenchAdmin.Model.CheckCatalog]::All.Id | Where-Object { $_ -like 'cluster.*' -or $_ -eq 'network.reachable' }).Count
            foreach ($r in $results) {
                "$($r.CheckId): $($r.Status)" | Should -Be "$($r.CheckId): Fail"
                $r.Found | Should -BeLike "could not be checked: *127.0.0.1:$closedPort*"
            }
        }

        It 'examples/verify-cluster.ps1 exits non-zero and its report fails those checks' {
            $report = Join-Path $TestDrive 'unreachable.xml'
            # The script imports WorkbenchAdmin by name, as on a node: the package under test comes first on PSModulePath.
            $saved = $env:WORKBENCHADMIN_CONFIG_ROOT, $env:PSModulePath
            $env:WORKBENCHADMIN_CONFIG_ROOT = $cut
            $env:PSModulePath = (Split-Path (Split-Path $moduleBase -Parent) -Parent) + [IO.Path]::PathSeparator + $env:PSModulePath
            try {
                $output = & ([Environment]::ProcessPath) -NoProfile -NonInteractive -File (Join-Path $repoRoot 'examples' 'verify-cluster.ps1') -Tag cluster -Report $report 2>&1
                $exit = $LASTEXITCODE
            }
            finally { $env:WORKBENCHADMIN_CONFIG_ROOT, $env:PSModulePath = $saved }
            $exit | Should -Not -Be 0 -Because ($output -join "`n")
            $report | Should -Exist
            $failures = @(([xml](Get-Content -Raw -LiteralPath $report)).SelectNodes('//testcase[failure]'))
            $failures.Count | Should -BeGreaterThan 0 -Because ($output -join "`n")
            ($failures | ForEach-Object { $_.failure.message }) -join "`n" | Should -BeLike '*could not be checked*'
        }
    }
}

Describe 'Default views' -Tag 'Cmdlets', 'Views' {
    BeforeAll {
        Initialize-TestCluster
        $placed = 'alice', 'bob', $accented, 'dave' | New-WbSession @db
        $viewScript = Get-BalancerScript -Body 'echo "${RSTUDIO_NODES%%,*}"'
        $output = @{
            'Get-WbNode'               = Get-WbNode @db
            'Get-WbSession'            = Get-WbSession @db
            'New-WbSession'            = $placed
            'Invoke-WbBalanceDecision' = 'alice', 'bob' | Invoke-WbBalanceDecision @db -ConfigRoot $roots[0]
            'Get-WbConfig'             = Get-WbConfig -ConfigRoot $roots[0]
            'Test-WbCluster'           = Test-WbCluster -ConfigRoot $roots[0] @db
            'Get-WbBalancer'           = Get-WbBalancer -ConfigRoot $roots[0]
            'Initialize-WbDatabase'    = $schemaStatus
            'Get-WbSessionLoad'        = Get-WbSessionLoad @db
            'Test-WbBalancerScript'    = Test-WbBalancerScript -ScriptPath $viewScript
        }
        # What each view must show whole: the node addresses and the key values.
        $script:mustShow = @{
            'Get-WbNode'               = @($addresses) + 'Online'
            'Get-WbSession'            = @($addresses) + @($placed.UserName) + @($placed.Pid | ForEach-Object { "$_" })
            'New-WbSession'            = @($addresses) + @($placed.UserName) + @($placed.Pid | ForEach-Object { "$_" })
            'Invoke-WbBalanceDecision' = @($output['Invoke-WbBalanceDecision'].Node) + 'alice', 'bob', 'sessions'
            'Get-WbConfig'             = $addresses[0], 'server-shared-storage-path', 'connection-timeout-seconds', '********', 'database.conf'
            'Test-WbCluster'           = @($addresses) + 'security.database-conf-mode', 'cluster.session-spread', 'Pass', 'Fail'
            'Get-WbBalancer'           = $addresses[0], 'sessions', 'Enabled'
            'Initialize-WbDatabase'    = 'postgres', '1: cluster, nodes and sessions'
            'Get-WbSessionLoad'        = @($addresses | ForEach-Object { "$_ -  Load: " }) + @($placed | ForEach-Object { "   $($_.Pid) - $($_.UserName)" })
            'Test-WbBalancerScript'    = 'node1.example.com:8787', '10.0.0.11:443', $accented, 'True'
        }
        # The columns every width shows.
        $script:columns = @{
            'Get-WbNode'               = 'ID', 'Address', 'Status', 'Sessions', 'Load5'
            'Get-WbSession'            = 'Id', 'UserName', 'Node', 'Pid', 'Started'
            'New-WbSession'            = 'Id', 'UserName', 'Node', 'Pid', 'Started'
            'Invoke-WbBalanceDecision' = 'UserName', 'Method', 'Node', 'Reason'
            'Get-WbConfig'             = 'File', 'Line', 'Section', 'Key', 'Value'
            'Test-WbCluster'           = 'Status', 'CheckId', 'Found', 'Target: '
            'Get-WbBalancer'           = 'Method', 'LoadBalancing', 'Address', 'ConfigRoot'
            'Initialize-WbDatabase'    = 'Database', 'Version', 'Applied'
            'Get-WbSessionLoad'        = @()
            'Test-WbBalancerScript'    = 'Passed', 'UserName', 'ms', 'Chosen / Failure', 'Nodes'
        }
    }

    It '<Command> renders at <Width> columns without cutting a column' -ForEach $viewCases {
        $text = $output[$Command] | Out-String -Width $Width
        $text.Contains($ellipsis) | Should -BeFalse -Because "nothing is cut at $Width columns:`n$text"
        ($text -split "`n" | Measure-Object -Property Length -Maximum).Maximum | Should -BeLessOrEqual $Width
        foreach ($shown in $mustShow[$Command]) { $text.Contains($shown) | Should -BeTrue -Because "'$shown' is shown whole at $Width columns:`n$text" }
        foreach ($column in $columns[$Command]) { $text.Contains($column) | Should -BeTrue -Because "the $column column is shown at $Width columns:`n$text" }
    }
}

Describe 'Help' -Tag 'Cmdlets', 'Help' {
    It '<_> has a synopsis, every parameter described and an example (Get-Help -Full)' -ForEach $exportedCmdlets {
        $name = $_
        $help = Get-Help $name -Full
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis.Trim() | Should -Not -BeLike "$name *" -Because 'the synopsis is written, not the generated syntax'
        $common = @([System.Management.Automation.Cmdlet]::CommonParameters) + @([System.Management.Automation.Cmdlet]::OptionalCommonParameters)
        foreach ($parameter in (Get-Command $name).Parameters.Keys | Where-Object { $_ -notin $common }) {
            $described = $help.parameters.parameter | Where-Object name -EQ $parameter
            ($described.description.Text -join '').Trim() | Should -Not -BeNullOrEmpty -Because "-$parameter of $name is described"
        }
        $examples = @($help.examples.example)
        $examples.Count | Should -BeGreaterThan 0
        $examples[0].code | Should -Not -BeNullOrEmpty
    }
}

Describe 'Tab completion against the live store' -Tag 'Cmdlets', 'Completion' {
    BeforeAll {
        Initialize-TestCluster
        'completer-ann', 'completer-bob', 'completer-bob' | New-WbSession @db | Out-Null
    }

    It 'completes node ids for Remove-WbNode -Id, with each node''s address' {
        $found = Get-Completion "Remove-WbNode -ConnectionString '$cs' -Id "
        @($found.CompletionText) | Should -Be @((Get-WbNode @db | Sort-Object Id).Id | ForEach-Object { "$_" })
        ($found.ToolTip -join ' ') | Should -BeLike "*$($addresses[1])*"
    }

    It 'completes node ids from the database.conf of -ConfigRoot on the command line' {
        $found = Get-Completion "Remove-WbNode -ConfigRoot '$($roots[0])' -Id "
        @($found.CompletionText) | Should -Be @((Get-WbNode @db | Sort-Object Id).Id | ForEach-Object { "$_" })
    }

    It 'completes node addresses for Get-WbNode -HostName' {
        $found = Get-Completion "Get-WbNode -ConnectionString '$cs' -HostName node2"
        @($found.CompletionText) | Should -Be @($addresses[1])
    }

    It 'completes the user names of active sessions for Get-WbSession -UserName' {
        $found = Get-Completion "Get-WbSession -ConnectionString '$cs' -UserName completer-"
        @($found.CompletionText | Sort-Object) | Should -Be @('completer-ann', 'completer-bob')
    }

    It 'completes the balancing methods for -Method: Workbench''s for its file, every policy for a decision' {
        @((Get-Completion 'Set-WbBalancer -Method ').CompletionText) | Should -Be @('sessions', 'system-load', 'user-hash', 'custom')
        @((Get-Completion 'New-WbSession -Method ').CompletionText) | Should -Be @('sessions', 'system-load', 'user-hash', 'custom', 'consistent-hash', 'bounded-hash')
        @((Get-Completion 'Invoke-WbBalanceDecision -Method s').CompletionText) | Should -Be @('sessions', 'system-load')
    }

    It 'completes the node statuses for Get-WbNode -Status, quoting those with spaces' {
        @((Get-Completion 'Get-WbNode -Status ').CompletionText) | Should -Be @('Online', 'Offline', "'Invalid secure cookie key'", "'Protocol mismatch'")
    }

    It 'completes the check ids for Test-WbCluster -Check' {
        @((Get-Completion 'Test-WbCluster -Check cluster.c').CompletionText) | Should -Be @('cluster.config-identical', 'cluster.clock')
        @((Get-Completion 'Test-WbCluster -Check ').CompletionText) | Should -Be @([WorkbenchAdmin.Model.CheckCatalog]::All.Id)
    }

    It 'completes the configuration files under -ConfigRoot for Get-WbConfig -File' {
        $found = Get-Completion "Get-WbConfig -ConfigRoot '$($roots[0])' -ConnectionString '$cs' -File "
        @($found.CompletionText) | Should -Be @('rserver.conf', 'launcher.conf', 'database.conf', 'load-balancer')
    }
}

Describe 'Runspaces' -Tag 'Cmdlets', 'Runspaces' {
    BeforeEach {
        Initialize-TestCluster
    }

    It 'Remove-Module in one runspace leaves another runspace placing sessions, and the module imports again' {
        $stopFile = Join-Path $TestDrive "stop-placing-$([guid]::NewGuid().ToString('N'))"
        $keeper = [powershell]::Create([System.Management.Automation.RunspaceMode]::NewRunspace)
        [void]$keeper.AddScript({
                param($Path, $ConnectionString, $StopFile)
                Import-Module $Path -ErrorAction Stop
                $placed = 0
                $failures = [Collections.Generic.List[string]]::new()
                while (-not (Test-Path -LiteralPath $StopFile)) {
                    try { $null = New-WbSession -UserName keeper -ConnectionString $ConnectionString -ErrorAction Stop; $placed++ }
                    catch { $failures.Add($_.ToString()) }
                    Start-Sleep -Milliseconds 20
                }
                [pscustomobject]@{ Placed = $placed; Failures = $failures.ToArray() }
            }).AddParameters(@{ Path = $modulePath; ConnectionString = $cs; StopFile = $stopFile })
        $handle = $keeper.BeginInvoke()
        $keeperCount = { [int](Invoke-Psql "SELECT count(*) FROM wbadmin.session WHERE username = 'keeper'") }
        try {
            Wait-Until { (& $keeperCount) -ge 3 } | Should -BeTrue -Because 'the other runspace places sessions'
            Remove-Module WorkbenchAdmin
            Get-Module WorkbenchAdmin | Should -BeNullOrEmpty
            $atRemoval = & $keeperCount
            Wait-Until { (& $keeperCount) -ge $atRemoval + 5 } | Should -BeTrue -Because 'its placements go on after Remove-Module here'
        }
        finally {
            New-Item -ItemType File -Path $stopFile | Out-Null
            $result = @($keeper.EndInvoke($handle))
            $keeperErrors = @($keeper.Streams.Error | ForEach-Object { "$_" })
            $keeper.Dispose()
            if (-not (Get-Module WorkbenchAdmin)) { Import-Module $modulePath -ErrorAction Stop }
        }
        $keeperErrors | Should -BeNullOrEmpty
        $result | Should -HaveCount 1
        $result[0].Failures | Should -BeNullOrEmpty
        $result[0].Placed | Should -BeGreaterOrEqual 8
        @(Get-WbNode @db) | Should -HaveCount 2
        (New-WbSession -UserName after-reimport @db).UserName | Should -Be 'after-reimport'
    }

    It 'ForEach-Object -Parallel from 8 runspaces places 80 sessions, each recorded once, spread within one' {
        $path = $modulePath
        $connection = $cs
        $placed = 1..8 | ForEach-Object -ThrottleLimit 8 -Parallel {
            Import-Module $using:path -ErrorAction Stop
            $runner = $_
            1..10 | ForEach-Object { "par$runner-$_" } | New-WbSession -ConnectionString $using:connection -ErrorAction Stop
        }
        $placed | Should -HaveCount 80
        $rows = @(Get-WbSession @db | Where-Object UserName -Like 'par*')
        $rows | Should -HaveCount 80
        @($rows.Id | Select-Object -Unique) | Should -HaveCount 80
        @($rows.UserName | Select-Object -Unique) | Should -HaveCount 80
        @($rows.Pid | Select-Object -Unique) | Should -HaveCount 80
        Get-StoreCount "username LIKE 'par%'" | Should -Be 80
        $perNode = @($rows | Group-Object NodeId)
        $perNode | Should -HaveCount 2
        [Math]::Abs($perNode[0].Count - $perNode[1].Count) | Should -BeLessOrEqual 1
        @((Get-WbNode @db).ActiveSessions | Sort-Object) | Should -Be @($perNode | ForEach-Object Count | Sort-Object)
    }
}

Describe 'Stopping a running command' -Tag 'Cmdlets', 'Stop' {
    BeforeAll {
        Initialize-TestCluster
        $runspace = [runspacefactory]::CreateRunspace()
        $runspace.Open()
        $import = [powershell]::Create()
        $import.Runspace = $runspace
        [void]$import.AddCommand('Import-Module').AddParameter('Name', $modulePath).AddParameter('ErrorAction', 'Stop')
        [void]$import.Invoke()
        $import.Dispose()

        # Stops $PowerShell as Ctrl+C does; waits at most $WaitSec for it to return.
        function Measure-PipelineStop([powershell] $PowerShell, [double] $WaitSec = 3) {
            $watch = [Diagnostics.Stopwatch]::StartNew()
            $stop = $PowerShell.BeginStop($null, $null)
            $returned = $stop.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds($WaitSec))
            $watch.Stop()
            [pscustomobject]@{ Returned = $returned; Elapsed = $watch.Elapsed; Handle = $stop }
        }

        # A PowerShell instance on the runspace that has the module imported.
        function Get-StoppablePowerShell {
            $ps = [powershell]::Create()
            $ps.Runspace = $runspace
            $ps
        }
    }

    AfterAll {
        $runspace.Dispose()
    }

    It 'stops Test-WbBalancerScript on a script that sleeps 60 s within 1 s, leaving no process' {
        $marker = "wbstop$([guid]::NewGuid().ToString('N'))"
        $sleep = Join-Path $TestDrive "sleep-$marker"
        & ln -s (Get-Command sleep -CommandType Application | Select-Object -First 1).Source $sleep
        $balancerScript = Get-BalancerScript -Body "'$sleep' 60`necho `"`${RSTUDIO_NODES%%,*}`"" -Name "balancer-$marker.sh"
        $ps = Get-StoppablePowerShell
        [void]$ps.AddCommand('Test-WbBalancerScript').AddParameter('ScriptPath', $balancerScript).AddParameter('TimeoutSec', 60).
        AddParameter('UserName', 'alice').AddParameter('Node', 'a.wbtest.example:8787')
        $handle = $ps.BeginInvoke()
        try {
            Wait-Until { @(& pgrep -f "sleep-$marker").Count -gt 0 } | Should -BeTrue -Because 'the script is running'
            Start-Sleep -Milliseconds 500
            $stop = Measure-PipelineStop $ps
            $left = @(& pgrep -f $marker)
        }
        finally {
            & pgrep -f $marker | ForEach-Object { & kill '-9' $_ }
            $null = $handle.AsyncWaitHandle.WaitOne(10000)
            if ($stop) { $ps.EndStop($stop.Handle) }
            $ps.Dispose()
        }
        $stop.Returned | Should -BeTrue -Because 'Stop() returns'
        $stop.Elapsed.TotalSeconds | Should -BeLessThan 1
        "$($ps.InvocationStateInfo.State)" | Should -Be 'Stopped'
        $left | Should -HaveCount 0 -Because 'the script and its sleep are gone'
    }

    It 'stops New-WbSession waiting on the placement lock within 1 s, recording nothing' {
        # psql holds the placement lock (ClusterStore.ClusterLock, "wbplace") from a connection of its own.
        $lockKey = 0x7762706c616365
        $start = [Diagnostics.ProcessStartInfo]::new($psql)
        foreach ($a in '-X', '-h', $pg.Host, '-p', $pg.Port, '-U', 'postgres', '-d', 'postgres', '-c', "SELECT pg_advisory_lock($lockKey)", '-c', 'SELECT pg_sleep(30)') {
            $start.ArgumentList.Add([string]$a)
        }
        $start.Environment['PGPASSWORD'] = $pgPassword
        $start.Environment['PGAPPNAME'] = 'wbtest-lock-holder'
        $start.RedirectStandardOutput = $true
        $start.RedirectStandardError = $true
        # The [powershell] instance runs in a pwsh of its own: a stop that takes the process down (an unhandled
        # exception on a cancellation thread) fails this test with the crash, not the whole test run.
        $scenario = Join-Path $TestDrive 'stop-new-session.ps1'
        Set-Content -LiteralPath $scenario -Value @'
param([string] $ModulePath, [string] $ConnectionString, [string] $Psql)
$ErrorActionPreference = 'Stop'
$target = [System.Data.Common.DbConnectionStringBuilder]@{ ConnectionString = $ConnectionString }
$env:PGPASSWORD = $target['Password']
$waiting = { [int](& $Psql -X -q -A -t -h $target['Host'] -p $target['Port'] -U $target['Username'] -d $target['Database'] -c "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted") }
$runspace = [runspacefactory]::CreateRunspace()
$runspace.Open()
$ps = [powershell]::Create()
$ps.Runspace = $runspace
[void]$ps.AddCommand('Import-Module').AddParameter('Name', $ModulePath).AddStatement().
    AddCommand('New-WbSession').AddParameter('UserName', 'stopped-user').AddParameter('ConnectionString', $ConnectionString)
$handle = $ps.BeginInvoke()
$deadline = [DateTime]::UtcNow.AddSeconds(15)
while ((& $waiting) -eq 0 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 25 }
$waited = & $waiting
Start-Sleep -Milliseconds 500
$watch = [Diagnostics.Stopwatch]::StartNew()
$stop = $ps.BeginStop($null, $null)
$returned = $stop.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds(3))
$watch.Stop()
$result = [ordered]@{
    Waited       = $waited
    Returned     = $returned
    ElapsedMs    = $watch.Elapsed.TotalMilliseconds
    State        = "$($ps.InvocationStateInfo.State)"
    StillWaiting = & $waiting
}
'RESULT ' + ($result | ConvertTo-Json -Compress)
if ($returned) { $ps.EndStop($stop) }
# A crash on a thread the stop started would surface here, as this pwsh's exit code.
Start-Sleep -Milliseconds 1000
'@
        $holder = [Diagnostics.Process]::Start($start)
        try {
            Wait-Until { [int](Invoke-Psql "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted") -gt 0 } | Should -BeTrue -Because 'psql holds the lock'
            $pwsh = Join-Path $PSHOME 'pwsh'
            $output = & $pwsh -NoProfile -NonInteractive -File $scenario -ModulePath $modulePath -ConnectionString $cs -Psql $psql 2>&1 | ForEach-Object { "$_" }
            $exitCode = $LASTEXITCODE
        }
        finally {
            Invoke-Psql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'wbtest-lock-holder'" | Out-Null
            if (-not $holder.WaitForExit(5000)) { $holder.Kill() }
            $holder.Dispose()
        }
        $line = @($output | Where-Object { $_ -like 'RESULT *' })
        $line | Should -HaveCount 1 -Because "the scenario reports (exit code $exitCode):`n$($output -join "`n")"
        $exitCode | Should -Be 0 -Because "the pwsh that stopped New-WbSession survives:`n$($output -join "`n")"
        $result = $line[0].Substring(7) | ConvertFrom-Json
        $result.Waited | Should -BeGreaterThan 0 -Because 'New-WbSession was waiting for the lock when stopped'
        $result.Returned | Should -BeTrue -Because 'Stop() returns'
        $result.ElapsedMs | Should -BeLessThan 1000
        $result.State | Should -Be 'Stopped'
        $result.StillWaiting | Should -Be 0 -Because 'no statement of the stopped command is left waiting for the lock'
        Start-Sleep -Milliseconds 300
        Get-StoreCount "username = 'stopped-user'" | Should -Be 0
    }

    It 'stops Get-WbSessionLoad -Uri on an endpoint that never answers within 1 s' {
        # Connections complete in the listen backlog; nothing ever accepts or answers them.
        $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
        $listener.Start()
        $ps = Get-StoppablePowerShell
        [void]$ps.AddCommand('Get-WbSessionLoad').AddParameter('Uri', "http://127.0.0.1:$($listener.LocalEndpoint.Port)/load-balancer/status")
        $handle = $ps.BeginInvoke()
        try {
            Wait-Until { $listener.Pending() } | Should -BeTrue -Because 'the request is sent'
            Start-Sleep -Milliseconds 500
            $stop = Measure-PipelineStop $ps
        }
        finally {
            $listener.Stop()
            $null = $handle.AsyncWaitHandle.WaitOne(20000)
            if ($stop) { $ps.EndStop($stop.Handle) }
            $ps.Dispose()
        }
        $stop.Returned | Should -BeTrue -Because 'Stop() returns'
        $stop.Elapsed.TotalSeconds | Should -BeLessThan 1
        "$($ps.InvocationStateInfo.State)" | Should -Be 'Stopped'
    }
}

Describe 'Verbose output' -Tag 'Cmdlets', 'Verbose' {
    BeforeAll {
        Initialize-TestCluster
    }

    It 'Get-WbBalancer -Verbose says which files it read' {
        $messages = Get-VerboseMessage { Get-WbBalancer -ConfigRoot $roots[0] -Verbose }
        $messages | Should -Not -BeNullOrEmpty
        ($messages -join "`n") | Should -BeLike "*$(Join-Path $roots[0] 'load-balancer')*"
    }

    It 'Get-WbConfig -Verbose says which files it read' {
        $messages = Get-VerboseMessage { Get-WbConfig -ConfigRoot $roots[0] -File rserver.conf -Verbose }
        ($messages -join "`n") | Should -BeLike "*Read $(Join-Path $roots[0] 'rserver.conf')*settings*"
    }

    It 'Invoke-WbBalanceDecision -Verbose says what it decided' {
        $node = [WorkbenchAdmin.Model.NodeCandidate]@{ Host = 'only.example'; ActiveSessions = 1; Load5 = 1; Cores = 2 }
        $messages = Get-VerboseMessage { Invoke-WbBalanceDecision -UserName u -Node $node -Method sessions -Verbose }
        ($messages -join "`n") | Should -BeLike '*u -> only.example:8787*fewest active sessions*'
    }

    It 'Get-WbNode -Verbose says which database it read' {
        $messages = Get-VerboseMessage { Get-WbNode @db -Verbose }
        ($messages -join "`n") | Should -BeLike "*GetNodes on $($pg.Host):$($pg.Port)/postgres*"
    }

    It 'Set-WbBalancer -Verbose says which file and key it wrote' {
        $root = Copy-ExampleRoot
        $messages = Get-VerboseMessage { Set-WbBalancer -ConfigRoot $root -Method user-hash -Confirm:$false -Verbose }
        $messages | Should -Not -BeNullOrEmpty
        ($messages -join "`n") | Should -BeLike "*$(Join-Path $root 'load-balancer')*balancer*user-hash*"
    }

    It 'New-WbSession -Verbose says which node the session went to, and why' {
        $messages = Get-VerboseMessage { New-WbSession -UserName talkative @db -Verbose }
        $messages | Should -Not -BeNullOrEmpty
        $placed = Get-WbSession @db -UserName talkative
        ($messages -join "`n") | Should -BeLike "*talkative -> $($placed.Node)*"
    }
}

Describe 'Draining nodes' -Tag 'Cmdlets', 'Drain' {
    BeforeEach {
        Initialize-TestCluster
    }

    It 'Suspend-WbNode -WhatIf drains nothing' {
        Suspend-WbNode -Id (Get-NodeId 0) @db -WhatIf
        (Get-WbNode @db -HostName $hosts[0]).Draining | Should -BeFalse
    }

    It 'a node piped from Get-WbNode is drained, shown draining, and receives no new session' {
        $drained = Get-WbNode @db -HostName $hosts[0] | Suspend-WbNode @db -Confirm:$false -PassThru
        $drained.Draining | Should -BeTrue
        (Get-WbNode @db | Out-String -Width 80) | Should -BeLike "*$($addresses[0])*Online, draining*"
        $placed = 1..6 | ForEach-Object { "drainee$_" } | New-WbSession @db -ConfigRoot $roots[1] -Confirm:$false
        $placed.Node | Should -Not -Contain $addresses[0]
    }

    It 'Resume-WbNode -HostName takes it back' {
        Suspend-WbNode -HostName $hosts[0] @db -Confirm:$false
        (Resume-WbNode -HostName $addresses[0] @db -PassThru).Draining | Should -BeFalse
        (Get-WbNode @db -HostName $hosts[0]).Draining | Should -BeFalse
    }

    It 'an unknown node is NodeNotFound, ObjectNotFound' {
        $e = { Suspend-WbNode -Id 99999 @db -Confirm:$false -ErrorAction Stop } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'NodeNotFound,*'
        $e.CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'with every node drained a new session fails with AllNodesDraining and nothing is recorded' {
        Get-WbNode @db | Suspend-WbNode @db -Confirm:$false
        New-WbSession -UserName nowhere @db -ConfigRoot $roots[0] -Confirm:$false -ErrorVariable failed -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'AllNodesDraining,*'
        Get-WbSession @db -UserName nowhere | Should -BeNullOrEmpty
    }
}

Describe 'Module lifecycle' -Tag 'Cmdlets', 'Module' {
    It 'imports, is removed and imports again in one session' {
        Remove-Module WorkbenchAdmin
        Get-Module WorkbenchAdmin | Should -BeNullOrEmpty
        Import-Module $modulePath -ErrorAction Stop
        Initialize-TestCluster
        @(Get-WbNode @db) | Should -HaveCount 2
        [WorkbenchAdmin.Model.NodeCandidate]::Parse('n.wbtest.example:1').Port | Should -Be 1
        (Get-WbNode @db | Out-String) | Should -BeLike "*$($addresses[0])*"
    }

    It 'importing the source checkout''s manifest fails and says to run build.ps1' {
        $manifest = Join-Path $repoRoot 'WorkbenchAdmin.psd1'
        Join-Path $repoRoot 'build.ps1' | Should -Exist -Because 'the suite runs from the repository'
        $ps = [powershell]::Create([System.Management.Automation.RunspaceMode]::NewRunspace)
        try {
            [void]$ps.AddCommand('Import-Module').AddParameter('Name', $manifest).AddParameter('ErrorAction', 'Stop')
            $failure = try { $ps.Invoke(); $null } catch { $_.Exception }
        }
        finally { $ps.Dispose() }
        $failure | Should -Not -BeNullOrEmpty -Because 'a source checkout has no compiled cmdlets'
        $failure.ToString() | Should -BeLike '*build.ps1*'
    }

    It 'the source checkout''s manifest is a valid manifest where it stands' {
        { Test-ModuleManifest -Path (Join-Path $repoRoot 'WorkbenchAdmin.psd1') -ErrorAction Stop } | Should -Not -Throw
    }

    It 'the package''s manifest is the source manifest with the compiled module as its root' {
        $source = Import-PowerShellDataFile -LiteralPath (Join-Path $repoRoot 'WorkbenchAdmin.psd1')
        $staged = Import-PowerShellDataFile -LiteralPath $modulePath
        $staged.RootModule | Should -Be 'WorkbenchAdmin.dll'
        $source.RootModule | Should -Be 'module/WorkbenchAdmin.psm1'
        $staged.Remove('RootModule'); $source.Remove('RootModule')
        ($staged | ConvertTo-Json -Depth 5) | Should -Be ($source | ConvertTo-Json -Depth 5)
    }
}
