#Requires -Modules Pester
<#
    The balancer's fast path as Install-WbBalancer lays it out, and the faults it must survive. Install-WbBalancer puts the
    package's client (bin/wbadmin-balancer-client) at a path in $work standing in for
    /usr/lib/rstudio-server/bin/rserver-balancer, the decider beside it (.decider) and the decision service's systemd units
    in a test unit directory (systemd does not run the tests: the files only). The service is started as its socket unit
    starts it, through systemd-socket-activate (systemd holds the socket, the decider gets it as descriptor 3). Each call
    runs the installed program as Workbench does: no arguments, stdin closed, RSTUDIO_USERNAME and RSTUDIO_NODES added.
    The store is a throwaway PostgreSQL with five registered nodes, node2 drained; the status page is a real listener.
    Every fault test checks every call: an entry of RSTUDIO_NODES exactly, never the drained node, or a clear refusal;
    and it prints the figures (calls, fallbacks, worst latency).
#>

BeforeAll {
    Import-Module $(if ($env:WORKBENCHADMIN_MODULE) { $env:WORKBENCHADMIN_MODULE } else { 'WorkbenchAdmin' }) -Force -ErrorAction Stop
    $moduleBase = (Get-Module WorkbenchAdmin).ModuleBase
    Add-Type -LiteralPath (Join-Path $moduleBase 'module' 'WorkbenchAdmin.Testing.dll')
    $script:pg = [WorkbenchAdmin.Testing.ThrowawayPostgres]::Start()
    $script:db = @{ ConnectionString = $pg.ConnectionString('postgres') }
    Initialize-WbDatabase @db -Confirm:$false | Out-Null
    $pgPassword = ([System.Data.Common.DbConnectionStringBuilder]@{ ConnectionString = $db.ConnectionString })['Password']
    $script:work = [IO.Directory]::CreateTempSubdirectory('wbadmin-balancer-service-test-').FullName
    $script:root = (New-Item -ItemType Directory -Path (Join-Path $work 'etc')).FullName
    Set-Content -LiteralPath (Join-Path $root 'rserver.conf') -Value "load-balancing-enabled=1"
    Set-Content -LiteralPath (Join-Path $root 'load-balancer') -Value "balancer=user-hash"
    Set-Content -LiteralPath (Join-Path $root 'database.conf') -Value "provider=postgresql`nhost=$($pg.Host)`nport=$($pg.Port)`ndatabase=postgres`nusername=postgres`npassword=$pgPassword`nconnection-timeout-seconds=5"
    Set-Content -LiteralPath (Join-Path $root 'secure-cookie-key') -Value ([Convert]::ToHexString([Security.Cryptography.RandomNumberGenerator]::GetBytes(32)))
    & chmod 600 (Join-Path $root 'database.conf') (Join-Path $root 'secure-cookie-key')
    $script:entries = foreach ($n in 1..5) {
        $nodeRoot = (New-Item -ItemType Directory -Path (Join-Path $work "node$n")).FullName
        Copy-Item -Path (Join-Path $root '*') -Destination $nodeRoot
        Set-WbBalancer -ConfigRoot $nodeRoot -WwwHostName "node$n.wbtest.example:8787" -Confirm:$false
        Register-WbNode -ConfigRoot $nodeRoot @db -WarningAction SilentlyContinue | Out-Null
        "node$n.wbtest.example:8787"
    }
    $script:nodes = $entries -join ','
    $script:drained = $entries[1]
    $page = ($entries | ForEach-Object { "$_ -  Load: 0.1, 0.2, 0.3`n" }) -join ''
    $script:statusPage = [WorkbenchAdmin.Testing.StatusPageServer]::new($page)
    $script:bin = (New-Item -ItemType Directory -Path (Join-Path $work 'bin')).FullName
    $script:program = Join-Path $bin 'rserver-balancer'
    $script:units = (New-Item -ItemType Directory -Path (Join-Path $work 'systemd')).FullName
    $script:state = Join-Path $work 'state'
    $script:socket = Join-Path $work 'run' 'balancer.sock'
    New-Item -ItemType Directory -Path (Split-Path $socket) | Out-Null
    & chmod 700 (Split-Path $socket)
    $script:deadlineMs = 2000
    $script:activator = '/usr/bin/systemd-socket-activate'

    function Install-Fast {
        Install-WbBalancer -Path $program -ConfigRoot $root -Method bounded-hash -StatusUri $statusPage.Uri -StateDirectory $state `
            -ServiceSocket $socket -DeadlineMs $deadlineMs -SystemdUnitPath $units -Confirm:$false -WarningAction SilentlyContinue
    }

    # Starts the installed program as Workbench does; returns the running call (Wait-Balancer collects it).
    function Open-BalancerCall([string] $User, [string] $Nodes = $nodes) {
        $start = [Diagnostics.ProcessStartInfo]::new($program)
        $start.UseShellExecute = $false
        $start.RedirectStandardInput = $true
        $start.RedirectStandardOutput = $true
        $start.RedirectStandardError = $true
        $start.Environment['RSTUDIO_USERNAME'] = $User
        $start.Environment['RSTUDIO_NODES'] = $Nodes
        $started = [DateTime]::Now
        $process = [Diagnostics.Process]::Start($start)
        $process.StandardInput.Close()
        [pscustomobject]@{ Process = $process; Started = $started; Out = $process.StandardOutput.ReadToEndAsync(); Error = $process.StandardError.ReadToEndAsync() }
    }
    # A call's latency is from its start to its own exit (the time .NET saw it end), not to when this loop got to it:
    # the calls of a burst are collected one after another, and a slow one must not be charged to those after it.
    function Wait-Balancer($Call) {
        $Call.Process.WaitForExit()
        $elapsed = ($Call.Process.ExitTime - $Call.Started).TotalMilliseconds
        [pscustomobject]@{ Exit = $Call.Process.ExitCode; Out = $Call.Out.Result; Error = $Call.Error.Result; Ms = $elapsed }
    }
    function Invoke-Balancer([string] $User) { Wait-Balancer (Open-BalancerCall $User) }

    # The decision service as workbenchadmin-balancer.socket runs it: the socket made first, the decider started on the first call.
    function Open-SocketService {
        Remove-Item -LiteralPath $socket -Force -ErrorAction SilentlyContinue
        $start = [Diagnostics.ProcessStartInfo]::new($activator)
        foreach ($a in '-l', $socket, "$program.decider", '--serve') { $start.ArgumentList.Add($a) }
        $start.UseShellExecute = $false
        $start.RedirectStandardError = $true
        $process = [Diagnostics.Process]::Start($start)
        $log = $process.StandardError.ReadToEndAsync()
        $deadline = [DateTime]::UtcNow.AddSeconds(20)
        while (-not (Test-Path -LiteralPath $socket) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
        # The first call starts the decider; from then on the service answers.
        $null = Invoke-Balancer 'warm-up'
        [pscustomobject]@{ Process = $process; Log = $log }
    }
    function Close-SocketService($Service) {
        if (-not $Service.Process.HasExited) { & kill -TERM $Service.Process.Id; $null = $Service.Process.WaitForExit(10000) }
        if (-not $Service.Process.HasExited) { $Service.Process.Kill() }
        Remove-Item -LiteralPath $socket -Force -ErrorAction SilentlyContinue
    }

    # Every call printed an entry of RSTUDIO_NODES exactly, never the drained node, or refused with a message; the figures.
    function Assert-EveryCall($Runs, [string] $What) {
        foreach ($r in $Runs) {
            if ($r.Exit -eq 0) {
                $r.Out | Should -BeIn ($entries | ForEach-Object { "$_`n" }) -Because $r.Error
                $r.Out | Should -Not -Be "$drained`n"
            }
            else {
                $r.Exit | Should -Be 1 -Because "a call either decides or refuses clearly: $($r.Error)"
                $r.Out | Should -BeNullOrEmpty
                $r.Error | Should -Match 'wbadmin-balancer: '
            }
        }
        $worst = ($Runs | Measure-Object Ms -Maximum).Maximum
        $fallbacks = @($Runs | Where-Object { $_.Error -match 'decision service' }).Count
        $refused = @($Runs | Where-Object Exit -NE 0).Count
        Write-Information -InformationAction Continue ("    {0}: {1} calls, {2} decided, {3} refused, {4} fell back from the service, worst {5:0} ms (deadline {6} ms)" -f $What, $Runs.Count, ($Runs.Count - $refused), $refused, $fallbacks, $worst, $deadlineMs)
        [pscustomobject]@{ Worst = $worst; Fallbacks = $fallbacks; Refused = $refused }
    }

    Get-WbNode @db -HostName 'node2.wbtest.example' | Suspend-WbNode @db -Confirm:$false
}

AfterAll {
    if ($statusPage) { $statusPage.Dispose() }
    if ($pg) { $pg.Dispose() }
    if ($work) { Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue }
}

Describe 'Install-WbBalancer: the fast path by default' -Tag 'Balancer' {
    It '-WhatIf writes no program, no decider and no unit' {
        Install-WbBalancer -Path $program -ConfigRoot $root -Method bounded-hash -SystemdUnitPath $units -WhatIf
        Test-Path -LiteralPath $program | Should -BeFalse
        Test-Path -LiteralPath "$program.decider" | Should -BeFalse
        @(Get-ChildItem -LiteralPath $units).Count | Should -Be 0
    }

    It 'puts the client at -Path, the decider beside it and the socket and service units in the unit directory' {
        Install-Fast
        $client = Get-Item -LiteralPath $program
        $decider = Get-Item -LiteralPath "$program.decider"
        [Convert]::ToString([int]$client.UnixFileMode, 8) | Should -Be '755'
        [Convert]::ToString([int]$decider.UnixFileMode, 8) | Should -Be '755'
        (Get-FileHash -LiteralPath $program).Hash | Should -Be (Get-FileHash -LiteralPath (Join-Path $moduleBase 'bin' 'wbadmin-balancer-client')).Hash
        (Get-FileHash -LiteralPath "$program.decider").Hash | Should -Be (Get-FileHash -LiteralPath (Join-Path $moduleBase 'bin' 'wbadmin-balancer')).Hash
        Get-Content -LiteralPath (Join-Path $units 'workbenchadmin-balancer.socket') | Should -Contain "ListenStream=$socket"
        Get-Content -LiteralPath (Join-Path $units 'workbenchadmin-balancer.service') | Should -Contain "ExecStart=$program.decider --serve"
        (Get-WbBalancerPolicy -ConfigRoot $root -Path $program).ProgramInstalled | Should -BeTrue
        (Get-WbBalancer -ConfigRoot $root).Method | Should -Be 'custom'
    }

    It 'says so when systemd is not running, and installs the files only' {
        if (Test-Path -LiteralPath '/run/systemd/system') { Set-ItResult -Skipped -Because 'systemd runs on this machine' }
        $null = Install-WbBalancer -Path $program -ConfigRoot $root -SystemdUnitPath $units -Confirm:$false -WarningVariable warned -WarningAction SilentlyContinue
        ($warned -join "`n") | Should -BeLike '*systemd is not running here*written to*not enabled or started*'
    }

    It 'systemd-analyze verify accepts every unit written' {
        if (-not (Test-Path -LiteralPath '/usr/bin/systemd-analyze')) { Set-ItResult -Skipped -Because '/usr/bin/systemd-analyze is not installed (apt-get install systemd)' }
        Install-Fast
        $unitFiles = Get-ChildItem -LiteralPath $units -Filter 'workbenchadmin-balancer.*' | ForEach-Object FullName
        $unitFiles.Count | Should -Be 2
        $output = & /usr/bin/systemd-analyze verify @unitFiles 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($output -join "`n")
        ($output -join "`n") | Should -Not -Match 'workbenchadmin-balancer\.(socket|service):'
    }

    It 'the program decides alone until the service runs, then the service answers' {
        Install-Fast
        $alone = Invoke-Balancer 'alice'
        $alone.Exit | Should -Be 0 -Because $alone.Error
        $service = Open-SocketService
        try {
            $served = Invoke-Balancer 'alice'
            $served.Exit | Should -Be 0 -Because $served.Error
            $served.Out | Should -Be $alone.Out
            $policy = Get-WbBalancerPolicy -ConfigRoot $root -Path $program
            $policy.ServiceAnswering | Should -BeTrue
            $policy.ServiceDecisions | Should -BeGreaterOrEqual 2 -Because 'the warm-up call and this one'
            $policy.ServiceFallbacks | Should -Be 0
        }
        finally { Close-SocketService $service }
    }

    It 'rserver-balancer --metrics prints what promtool check metrics accepts' {
        if (-not (Test-Path -LiteralPath '/usr/bin/promtool')) { Set-ItResult -Skipped -Because '/usr/bin/promtool is not installed (apt-get install prometheus)' }
        Install-Fast
        $service = Open-SocketService
        try {
            1..5 | ForEach-Object { $null = Invoke-Balancer "user$_" }
            $metrics = & $program --metrics
            $LASTEXITCODE | Should -Be 0
            ($metrics -join "`n") | Should -Match 'wbadmin_balancer_decisions_total\{policy="bounded-hash",node="node[13-5]\.wbtest\.example:8787"\}'
            $check = ($metrics -join "`n") + "`n" | & /usr/bin/promtool check metrics 2>&1
            $LASTEXITCODE | Should -Be 0 -Because ($check -join "`n")
        }
        finally { Close-SocketService $service }
    }

    It 'a decider others could change is never run: the session is refused, saying why' {
        Install-Fast
        & chmod 775 "$program.decider"
        try { $run = Invoke-Balancer 'alice' }
        finally { & chmod 755 "$program.decider" }
        $run.Exit | Should -Be 1
        $run.Out | Should -BeNullOrEmpty
        $run.Error | Should -BeLike "*will not run the decider $program.decider (not a regular file that only root can change)*"
    }

    It '-NoService puts the decider itself at -Path and removes the units' {
        Install-Fast
        Install-WbBalancer -Path $program -ConfigRoot $root -SystemdUnitPath $units -NoService -Confirm:$false
        (Get-FileHash -LiteralPath $program).Hash | Should -Be (Get-FileHash -LiteralPath (Join-Path $moduleBase 'bin' 'wbadmin-balancer')).Hash
        Test-Path -LiteralPath "$program.decider" | Should -BeFalse
        @(Get-ChildItem -LiteralPath $units).Count | Should -Be 0
        (Invoke-Balancer 'alice').Exit | Should -Be 0
    }

    It 'Uninstall-WbBalancer takes it all away and gives Workbench back its balancer and the admin''s program' {
        Set-Content -LiteralPath $program -Value "#!/bin/sh`necho `${RSTUDIO_NODES%%,*}"
        & chmod 755 $program
        Remove-Item -LiteralPath "$program.conf" -ErrorAction SilentlyContinue
        Set-WbBalancer -ConfigRoot $root -Method sessions -Confirm:$false
        Install-Fast
        (Get-WbBalancer -ConfigRoot $root).Method | Should -Be 'custom'
        Uninstall-WbBalancer -Path $program -ConfigRoot $root -SystemdUnitPath $units -WhatIf
        Test-Path -LiteralPath "$program.decider" | Should -BeTrue -Because '-WhatIf changes nothing'
        Uninstall-WbBalancer -Path $program -ConfigRoot $root -SystemdUnitPath $units -Confirm:$false
        Get-Content -LiteralPath $program | Should -Contain 'echo ${RSTUDIO_NODES%%,*}'
        foreach ($gone in "$program.decider", "$program.conf", "$program.before-workbenchadmin") { Test-Path -LiteralPath $gone | Should -BeFalse -Because "$gone is removed" }
        @(Get-ChildItem -LiteralPath $units).Count | Should -Be 0
        (Get-WbBalancer -ConfigRoot $root).Method | Should -Be 'sessions'
        Remove-Item -LiteralPath $program
    }
}

Describe 'The fast path under faults, every call run as Workbench runs it' -Tag 'Balancer' {
    BeforeAll {
        Install-Fast
        if (-not (Test-Path -LiteralPath $activator)) { return }
        # The drain known from the store, recorded for when the store is down.
        $null = Invoke-Balancer 'record-the-drain'
    }
    BeforeEach {
        if (-not (Test-Path -LiteralPath $activator)) { Set-ItResult -Skipped -Because "$activator is not installed (apt-get install systemd)" }
        $statusPage.Hang = $false
    }

    It 'the service killed with SIGKILL in the middle of 200 concurrent calls' {
        $service = Open-SocketService
        try {
            $calls = foreach ($i in 1..200) {
                Open-BalancerCall "user$i"
                if ($i -eq 60) { & kill -KILL $service.Process.Id }
            }
            $runs = foreach ($c in $calls) { Wait-Balancer $c }
        }
        finally { Close-SocketService $service }
        $figures = Assert-EveryCall $runs 'SIGKILL under 200 calls'
        $figures.Refused | Should -Be 0
        $figures.Fallbacks | Should -BeGreaterThan 0 -Because 'calls after the kill find no service'
        # The deciders that take over find the store's view the service kept: none opens a database connection.
        $figures.Worst | Should -BeLessThan ($deadlineMs + 1000) -Because 'each call decides within its deadline; the margin is for 200 processes starting at once on a loaded 2-core machine'
    }

    It 'the socket deleted, or replaced by a regular file' {
        $service = Open-SocketService
        try {
            Remove-Item -LiteralPath $socket
            $deleted = 1..20 | ForEach-Object { Invoke-Balancer "user$_" }
            Set-Content -LiteralPath $socket -Value 'not a socket'
            $replaced = 1..20 | ForEach-Object { Invoke-Balancer "user$_" }
        }
        finally { Close-SocketService $service }
        $null = Assert-EveryCall $deleted 'socket deleted'
        $figures = Assert-EveryCall $replaced 'socket replaced by a regular file'
        $figures.Refused | Should -Be 0
        $replaced | ForEach-Object { $_.Error | Should -BeLike "*$socket is not a socket*" }
    }

    It 'PostgreSQL stopped, then started again' {
        $service = Open-SocketService
        try {
            $pg.Kill()
            try { $down = 1..20 | ForEach-Object { Invoke-Balancer "user$_" } }
            finally { $pg.StartServer() }
            $up = 1..20 | ForEach-Object { Invoke-Balancer "user$_" }
        }
        finally { Close-SocketService $service }
        $figures = Assert-EveryCall $down 'store down'
        $figures.Refused | Should -Be 0 -Because 'the drain record stands in for the store'
        $figures.Worst | Should -BeLessThan ($deadlineMs + 3000)
        $null = Assert-EveryCall $up 'store back'
        $up[-1].Error | Should -Not -Match 'store' -Because 'the service reconnects'
    }

    It 'the status page hanging' {
        $service = Open-SocketService
        try {
            $statusPage.Hang = $true
            $runs = 1..20 | ForEach-Object { Invoke-Balancer "user$_" }
        }
        finally { $statusPage.Hang = $false; Close-SocketService $service }
        $figures = Assert-EveryCall $runs 'status page hanging'
        $figures.Refused | Should -Be 0
        $figures.Worst | Should -BeLessThan ($deadlineMs + 3000)
        $runs | ForEach-Object { $_.Error | Should -Match 'status page' }
    }

    It 'the drain record unreadable' {
        $record = Join-Path $state 'drained'
        $saved = Get-Content -LiteralPath $record -Raw
        $service = Open-SocketService
        try {
            Remove-Item -LiteralPath $record
            New-Item -ItemType Directory -Path $record | Out-Null
            $runs = 1..20 | ForEach-Object { Invoke-Balancer "user$_" }
        }
        finally {
            Close-SocketService $service
            Remove-Item -LiteralPath $record -Recurse -Force
            Set-Content -LiteralPath $record -Value $saved -NoNewline
        }
        $figures = Assert-EveryCall $runs 'drain record unreadable'
        $figures.Refused | Should -Be 0 -Because 'the store says which node is drained'
    }
}
