#Requires -Modules Pester
<#
    The balancer program end to end, as an admin installs it and as Workbench runs it: Install-WbBalancer puts
    the package's compiled program (bin/wbadmin-balancer) at a path in $work standing in for
    /usr/lib/rstudio-server/bin/rserver-balancer, and each test runs that file as a child process with stdin
    closed and only RSTUDIO_USERNAME and RSTUDIO_NODES added to the environment. The cluster store is a throwaway
    PostgreSQL with three registered nodes; the policy comes from Install-WbBalancer and Set-WbBalancerPolicy.
#>

BeforeAll {
    Import-Module $(if ($env:WORKBENCHADMIN_MODULE) { $env:WORKBENCHADMIN_MODULE } else { 'WorkbenchAdmin' }) -Force -ErrorAction Stop
    $moduleBase = (Get-Module WorkbenchAdmin).ModuleBase
    $repoRoot = Split-Path (Split-Path $PSScriptRoot -Parent) -Parent
    Add-Type -LiteralPath (Join-Path $moduleBase 'module' 'WorkbenchAdmin.Testing.dll')
    $script:pg = [WorkbenchAdmin.Testing.ThrowawayPostgres]::Start()
    $script:cs = $pg.ConnectionString('postgres')
    $script:db = @{ ConnectionString = $cs }
    Initialize-WbDatabase @db -Confirm:$false | Out-Null
    $pgPassword = ([System.Data.Common.DbConnectionStringBuilder]@{ ConnectionString = $cs })['Password']
    # A directory of the suite's own: Pester's TestDrive drops what each Describe block wrote when the block ends.
    $script:work = [IO.Directory]::CreateTempSubdirectory('wbadmin-balancer-test-').FullName

    # One configuration root (this node's), and three nodes in the store, each with a listener standing in for its rserver.
    $script:root = (New-Item -ItemType Directory -Path (Join-Path $work 'etc')).FullName
    Copy-Item -Path (Join-Path $repoRoot 'examples' 'etc-rstudio' '*') -Destination $root
    Set-Content -LiteralPath (Join-Path $root 'database.conf') -Value "provider=postgresql`nhost=$($pg.Host)`nport=$($pg.Port)`ndatabase=postgres`nusername=postgres`npassword=$pgPassword`nconnection-timeout-seconds=5"
    Set-Content -LiteralPath (Join-Path $root 'secure-cookie-key') -Value ([Convert]::ToHexString([Security.Cryptography.RandomNumberGenerator]::GetBytes(32)))
    $script:rservers = foreach ($n in 1..3) {
        $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
        $listener.Start()
        $listener
    }
    $script:entries = foreach ($n in 1..3) {
        $nodeRoot = Join-Path $work "node$n"
        New-Item -ItemType Directory -Path $nodeRoot | Out-Null
        Copy-Item -Path (Join-Path $root '*') -Destination $nodeRoot
        Add-Content -LiteralPath (Join-Path $nodeRoot 'rserver.conf') -Value "www-address=127.0.0.1`nwww-port=$($rservers[$n - 1].LocalEndpoint.Port)"
        Set-WbBalancer -ConfigRoot $nodeRoot -WwwHostName "node$n.wbtest.example:8787" -Confirm:$false
        Register-WbNode -ConfigRoot $nodeRoot @db -WarningAction SilentlyContinue | Out-Null
        "node$n.wbtest.example:8787"
    }
    $script:nodes = $entries -join ','
    $script:bin = (New-Item -ItemType Directory -Path (Join-Path $work 'bin')).FullName
    $script:program = Join-Path $bin 'rserver-balancer'
    # Nothing listens there: the program reads the store and says the page did not answer.
    $script:noStatusPage = 'http://127.0.0.1:1/load-balancer/status'
    # The program's record of drained nodes (by default /var/lib/workbenchadmin): the test's own.
    $script:state = Join-Path $work 'state'
    # Where the program asks its decision service (by default /run/workbenchadmin/balancer.sock): the test's own.
    $script:socket = Join-Path $work 'run' 'balancer.sock'
    # The decision service's units go to the suite's own directory, never the machine's /etc/systemd/system.
    $PSDefaultParameterValues['Install-WbBalancer:SystemdUnitPath'] = (New-Item -ItemType Directory -Path (Join-Path $work 'systemd')).FullName

    # Runs the installed program as Workbench does: no arguments, stdin closed, the two variables added.
    function Invoke-Balancer([string] $User, [string] $Nodes = $nodes, [string] $Program = $program) {
        $start = [Diagnostics.ProcessStartInfo]::new($Program)
        $start.UseShellExecute = $false
        $start.RedirectStandardInput = $true
        $start.RedirectStandardOutput = $true
        $start.RedirectStandardError = $true
        $start.Environment['RSTUDIO_USERNAME'] = $User
        $start.Environment['RSTUDIO_NODES'] = $Nodes
        $process = [Diagnostics.Process]::Start($start)
        $process.StandardInput.Close()
        $output = $process.StandardOutput.ReadToEndAsync()
        $errors = $process.StandardError.ReadToEnd()
        $process.WaitForExit()
        [pscustomobject]@{ Exit = $process.ExitCode; Out = $output.Result; Error = $errors }
    }

    function Initialize-BalancerTestState {
        Get-WbSession @db | Remove-WbSession @db
        Get-WbNode @db | Where-Object Draining | Resume-WbNode @db
        # A fresh heartbeat from each node: on a loaded machine the suite can outlast the 30 s after which a node
        # registered in BeforeAll counts as Offline.
        foreach ($n in 1..3) { Update-WbNodeStatus -ConfigRoot (Join-Path $work "node$n") @db -WarningAction SilentlyContinue }
    }

    # The installed program run as its systemd unit runs it (--verbose: a line per call, so a test can tell who answered).
    function Open-DecisionService([string] $Program = $program, [string] $Socket = $socket) {
        $start = [Diagnostics.ProcessStartInfo]::new($Program)
        foreach ($a in '--serve', '--verbose') { $start.ArgumentList.Add($a) }
        $start.UseShellExecute = $false
        $start.RedirectStandardError = $true
        $start.RedirectStandardInput = $true
        $process = [Diagnostics.Process]::Start($start)
        $log = $process.StandardError.ReadToEndAsync()
        $deadline = [DateTime]::UtcNow.AddSeconds(20)
        while (-not (Test-Path -LiteralPath $Socket) -and [DateTime]::UtcNow -lt $deadline -and -not $process.HasExited) { Start-Sleep -Milliseconds 20 }
        [pscustomobject]@{ Process = $process; Log = $log }
    }
    function Close-DecisionService($Service, [string] $Signal = 'TERM') {
        & kill "-$Signal" $Service.Process.Id
        if (-not $Service.Process.WaitForExit(10000)) { $Service.Process.Kill(); throw 'the service did not stop within 10 s' }
        $Service.Log.GetAwaiter().GetResult()
    }
}

AfterAll {
    if ($rservers) { $rservers | ForEach-Object Stop }
    if ($pg) { $pg.Dispose() }
    if ($work) { Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue }
}

Describe 'Install-WbBalancer' -Tag 'Balancer' {
    It '-WhatIf installs nothing and changes no file' {
        $before = Get-ChildItem -LiteralPath $root -Force | ForEach-Object { "$($_.Name) $((Get-FileHash -LiteralPath $_.FullName).Hash)" }
        Install-WbBalancer -Path $program -ConfigRoot $root -Method bounded-hash -WhatIf
        Test-Path -LiteralPath $program | Should -BeFalse
        Get-ChildItem -LiteralPath $root -Force | ForEach-Object { "$($_.Name) $((Get-FileHash -LiteralPath $_.FullName).Hash)" } | Should -Be $before
    }

    It 'puts the compiled program in place, mode 755, with its policy, and sets balancer=custom' {
        $policy = Install-WbBalancer -Path $program -ConfigRoot $root -Method sessions -StatusUri $noStatusPage -StateDirectory $state -Confirm:$false -PassThru
        $policy.ProgramInstalled | Should -BeTrue
        $policy.BalancerIsCustom | Should -BeTrue
        $policy.StateDirectory | Should -Be $state
        (Get-WbBalancer -ConfigRoot $root).ScriptPath | Should -Be $program -Because 'the module''s own cmdlets run the same program'
        $policy.Method | Should -Be 'sessions'
        [Convert]::ToString([int](Get-Item -LiteralPath $program).UnixFileMode, 8) | Should -Be '755'
        Get-Content -LiteralPath "$program.conf" | Should -Contain "config-root=$root"
        (Get-WbBalancer -ConfigRoot $root).Method | Should -Be 'custom'
        Get-Content -LiteralPath (Join-Path $root 'load-balancer') -Raw | Should -Not -Match 'custom-balancer-script|balancer-use-ip-address'
    }

    It 'an admin''s own program there is kept beside it' {
        $path = Join-Path $bin 'their-balancer'
        Set-Content -LiteralPath $path -Value "#!/bin/sh`necho `${RSTUDIO_NODES%%,*}"
        Install-WbBalancer -Path $path -ConfigRoot (Join-Path $work 'node1') -StateDirectory $state -Confirm:$false
        Get-Content -LiteralPath "$path.before-workbenchadmin" | Should -Contain 'echo ${RSTUDIO_NODES%%,*}'
        (Get-WbBalancerPolicy -ConfigRoot (Join-Path $work 'node1') -Path $path).ProgramInstalled | Should -BeTrue
    }

    It 'a program path in a missing directory is BalancerPathNotFound, ObjectNotFound' {
        $e = { Install-WbBalancer -Path (Join-Path $work 'no' 'such' 'rserver-balancer') -ConfigRoot $root -Confirm:$false -ErrorAction Stop } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'BalancerPathNotFound,*'
        $e.CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It '-Method custom is refused: that would be the program itself' {
        $e = { Set-WbBalancerPolicy -ConfigRoot $root -Method custom -ErrorAction Stop } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'InvalidBalancingMethod,*'
        $e.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $e.Exception.Message | Should -BeLike '*custom is the program itself*'
    }

    It 'tab completion offers the program''s policies and not custom' {
        $line = 'Install-WbBalancer -Method '
        $offered = (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText
        $offered | Should -Contain 'bounded-hash'
        $offered | Should -Not -Contain 'custom'
    }
}

Describe 'The installed program, run as Workbench runs it' -Tag 'Balancer' {
    BeforeAll {
        # A generous deadline: on a loaded machine a late store would (rightly) turn decisions into fallbacks, which these tests do not look at.
        Install-WbBalancer -Path $program -ConfigRoot $root -Method sessions -StatusUri $noStatusPage -StateDirectory $state -ServiceSocket $socket -DeadlineMs 10000 -Confirm:$false
    }
    BeforeEach { Initialize-BalancerTestState }

    It 'prints one entry of RSTUDIO_NODES exactly as given and exits 0, with policy <_>' -ForEach 'sessions', 'system-load', 'user-hash', 'consistent-hash', 'bounded-hash' {
        Set-WbBalancerPolicy -ConfigRoot $root -Method $_ -Confirm:$false
        $run = Invoke-Balancer -User alice
        $run.Exit | Should -Be 0 -Because $run.Error
        $run.Out | Should -BeIn ($entries | ForEach-Object { "$_`n" })
    }

    It 'never prints a drained node' {
        Set-WbBalancerPolicy -ConfigRoot $root -Method consistent-hash -Confirm:$false
        Get-WbNode @db -HostName 'node2.wbtest.example' | Suspend-WbNode @db -Confirm:$false
        $printed = 1..30 | ForEach-Object { (Invoke-Balancer -User "user$_").Out }
        $printed | Should -Not -Contain "$($entries[1])`n"
        ($printed | Sort-Object -Unique).Count | Should -Be 2
    }

    It 'with every node full it exits 1 with a message rather than overload one' {
        Set-WbBalancerPolicy -ConfigRoot $root -Method sessions -MaxSessionsPerNode 1 -Confirm:$false
        try {
            'a', 'b', 'c' | New-WbSession @db -ConfigRoot $root -Method sessions | Out-Null
            $run = Invoke-Balancer -User dave
            $run.Exit | Should -Be 1
            $run.Out | Should -BeNullOrEmpty
            $run.Error | Should -BeLike '*MaxSessionsPerNode*'
        }
        finally { Set-Content -LiteralPath (Join-Path $root 'workbenchadmin.conf') -Value ((Get-Content -LiteralPath (Join-Path $root 'workbenchadmin.conf')) -notmatch '^max-sessions-per-node') }
    }

    It 'sticky keeps a user on the node with their sessions' {
        Set-WbBalancerPolicy -ConfigRoot $root -Method sessions -Sticky -Confirm:$false
        try {
            New-WbSession -UserName x @db -ConfigRoot $root | Out-Null # placed by the installed program itself (balancer=custom)
            $first = (Get-WbSession @db -UserName x).Node
            'y', 'z' | New-WbSession @db -ConfigRoot $root -Method sessions | Out-Null
            New-WbSession -UserName x @db -ConfigRoot $root -Method user-hash | Out-Null # two of x's sessions, wherever
            (Invoke-Balancer -User x).Out | Should -Be "$((Get-WbSession @db -UserName x | Group-Object Node | Sort-Object Count -Descending | Select-Object -First 1).Name)`n"
            $first | Should -Not -BeNullOrEmpty
        }
        finally { Set-WbBalancerPolicy -ConfigRoot $root -Sticky:$false -Confirm:$false }
    }

    It '50 concurrent invocations for one user agree' {
        Set-WbBalancerPolicy -ConfigRoot $root -Method bounded-hash -Confirm:$false
        $answers = 1..50 | ForEach-Object -ThrottleLimit 50 -Parallel {
            $start = [Diagnostics.ProcessStartInfo]::new($using:program)
            $start.UseShellExecute = $false
            $start.RedirectStandardInput = $true
            $start.RedirectStandardOutput = $true
            $start.RedirectStandardError = $true
            $start.Environment['RSTUDIO_USERNAME'] = 'same-user'
            $start.Environment['RSTUDIO_NODES'] = $using:nodes
            $process = [Diagnostics.Process]::Start($start)
            $process.StandardInput.Close()
            $process.StandardError.ReadToEndAsync() | Out-Null
            $output = $process.StandardOutput.ReadToEnd()
            $process.WaitForExit()
            "$($process.ExitCode) $output"
        }
        $answers.Count | Should -Be 50
        @($answers | Sort-Object -Unique).Count | Should -Be 1
        $answers[0] | Should -BeLike '0 node*.wbtest.example:8787*'
    }

    It 'a call without RSTUDIO_NODES exits 2 and says why' {
        $run = Invoke-Balancer -User alice -Nodes ''
        $run.Exit | Should -Be 2
        $run.Error | Should -BeLike '*RSTUDIO_NODES is empty*'
    }
}

Describe 'The decision service: the installed program run with --serve' -Tag 'Balancer' {
    BeforeAll {
        Install-WbBalancer -Path $program -ConfigRoot $root -Method consistent-hash -StatusUri $noStatusPage -StateDirectory $state -ServiceSocket $socket -DeadlineMs 10000 -Confirm:$false
        Initialize-BalancerTestState
        $script:users = 1..20 | ForEach-Object { "user$_" }
        # What the program decides by itself, with no service running.
        $script:alone = foreach ($u in $users) { (Invoke-Balancer -User $u).Out }
        $script:service = Open-DecisionService
    }
    AfterAll { if ($service -and -not $service.Process.HasExited) { $service.Process.Kill() } }

    It 'listens at the policy''s socket, which Get-WbBalancerPolicy shows' {
        $service.Process.HasExited | Should -BeFalse
        (Get-Item -LiteralPath $socket).UnixMode | Should -Be 'srw-------'
        $policy = Get-WbBalancerPolicy -ConfigRoot $root -Path $program
        $policy.ServiceSocket | Should -Be $socket
        $policy.ServiceAnswering | Should -BeTrue
        Get-WbBalancerPolicy -ConfigRoot $root -Path $program | Format-List | Out-String | Should -Match "ServiceSocket\s+: $([regex]::Escape($socket))"
    }

    It 'answers Workbench''s calls to the program exactly as the program decides alone' {
        $served = foreach ($u in $users) { (Invoke-Balancer -User $u).Out }
        $served | Should -Be $alone
    }

    It 'a drain reaches it at once' {
        Get-WbNode @db -HostName 'node2.wbtest.example' | Suspend-WbNode @db -Confirm:$false
        try {
            $printed = foreach ($u in $users) { (Invoke-Balancer -User $u).Out }
            $printed | Should -Not -Contain "$($entries[1])`n"
            $alone | Should -Contain "$($entries[1])`n"
        }
        finally { Get-WbNode @db | Where-Object Draining | Resume-WbNode @db }
    }

    It 'stops on TERM, removing its socket, having answered every call; the program then decides alone, without complaint' {
        $log = Close-DecisionService $service
        $service.Process.ExitCode | Should -Be 0
        Test-Path -LiteralPath $socket | Should -BeFalse
        (Get-WbBalancerPolicy -ConfigRoot $root -Path $program).ServiceAnswering | Should -BeNullOrEmpty
        $log | Should -Match "serving decisions at $([regex]::Escape($socket))"
        # One line per call of the two Its above, each '<user> -> <entry> (<ms> ms)'.
        @($log -split "`n" | Where-Object { $_ -match '^wbadmin-balancer: user\d+ -> node\d\.wbtest\.example:8787 \(' }).Count | Should -Be (2 * $users.Count)
        $log | Should -Match "stopped serving at .* after $(2 * $users.Count) calls"
        $run = Invoke-Balancer -User $users[0]
        $run.Out | Should -Be $alone[0]
        $run.Error | Should -Not -BeLike '*decision service*'
    }

    It 'Ctrl+C (SIGINT) stops it as TERM does' {
        # A job started in the background by a non-interactive shell ignores SIGINT, and so does every process it starts:
        # then the service keeps ignoring it too, as any Unix program does.
        $ignored = [Convert]::ToUInt64(((Get-Content "/proc/$PID/status" | Where-Object { $_ -like 'SigIgn:*' }) -split '\s+')[1], 16)
        if ($ignored -band 0x2) { Set-ItResult -Skipped -Because 'SIGINT is ignored in this test run (started as a background job), so the service inherits that'; return }
        $interrupted = Open-DecisionService
        (Invoke-Balancer -User alice).Exit | Should -Be 0
        $log = Close-DecisionService $interrupted -Signal INT
        $interrupted.Process.ExitCode | Should -Be 0
        $log | Should -Match 'after 1 calls'
        Test-Path -LiteralPath $socket | Should -BeFalse
    }

    It 'a second service on the same socket refuses to start and names it; the first keeps answering' {
        $first = Open-DecisionService
        try {
            $second = Open-DecisionService
            $second.Process.WaitForExit(10000) | Should -BeTrue
            $second.Process.ExitCode | Should -Be 1
            $second.Log.GetAwaiter().GetResult() | Should -BeLike "*not serving at $socket*another decision service answers there*"
            (Invoke-Balancer -User alice).Exit | Should -Be 0
        }
        finally { Close-DecisionService $first | Should -Match 'after 1 calls' }
    }

    It 'an argument the program does not know is refused with exit 2, naming --serve' {
        $start = [Diagnostics.ProcessStartInfo]::new($program)
        $start.ArgumentList.Add('--serv')
        $start.RedirectStandardError = $true
        $process = [Diagnostics.Process]::Start($start)
        $errors = $process.StandardError.ReadToEnd()
        $process.WaitForExit()
        $process.ExitCode | Should -Be 2
        $errors | Should -BeLike '*takes no arguments*--serve*'
    }

    It 'a -ServiceSocket too long for a socket is InvalidServiceSocket, InvalidArgument, and writes nothing' {
        $before = Get-FileHash -LiteralPath (Join-Path $root 'workbenchadmin.conf')
        $e = { Set-WbBalancerPolicy -ConfigRoot $root -ServiceSocket ('/run/' + ('x' * 120) + '.sock') -ErrorAction Stop } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'InvalidServiceSocket,*'
        $e.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $e.Exception.Message | Should -BeLike '*at most 107*'
        (Get-FileHash -LiteralPath (Join-Path $root 'workbenchadmin.conf')).Hash | Should -Be $before.Hash
    }
}

Describe 'Get-WbBalancerPolicy and Set-WbBalancerPolicy' -Tag 'Balancer' {
    It 'Set-WbBalancerPolicy changes only what it is given; Get-WbBalancerPolicy shows it' {
        Set-WbBalancerPolicy -ConfigRoot $root -Method bounded-hash -BalanceFactor 1.5 -Confirm:$false
        Set-WbBalancerPolicy -ConfigRoot $root -MaxSessionsPerNode 25 -DeadlineMs 800 -Confirm:$false
        $policy = Get-WbBalancerPolicy -ConfigRoot $root -Path $program
        $policy.Method | Should -Be 'bounded-hash'
        $policy.BalanceFactor | Should -Be 1.5
        $policy.MaxSessionsPerNode | Should -Be 25
        $policy.DeadlineMs | Should -Be 800
    }

    It 'its list view shows the policy options by name' {
        (Get-WbBalancerPolicy -ConfigRoot $root -Path $program | Format-List | Out-String) | Should -Match 'BalanceFactor\s+: 1\.5'
    }

    It 'its default view fits 80 columns and shows the policy and whether Workbench runs the program' {
        $text = Get-WbBalancerPolicy -ConfigRoot $root -Path $program | Out-String -Width 80
        ($text -split "`n" | Measure-Object -Property Length -Maximum).Maximum | Should -BeLessOrEqual 80
        $text | Should -Match 'Method\s+MaxSessions\s+Factor\s+Sticky\s+Installed\s+ConfigRoot'
        $text | Should -Match 'bounded-hash\s+25\s+1.5\s+False\s+Yes\s+/'
    }

    It 'Format-List shows every setting' {
        $text = Get-WbBalancerPolicy -ConfigRoot $root -Path $program | Format-List | Out-String -Width 80
        $text | Should -Match 'DeadlineMs\s+: 800'
        $text | Should -Match 'ProgramInstalled\s+: True'
        $text | Should -Match 'StateDirectory\s+: /'
    }

    It 'warns when balancer=custom runs something other than the program' {
        $other = Join-Path $work 'other-root'
        New-Item -ItemType Directory -Path $other | Out-Null
        Set-WbBalancer -ConfigRoot $other -Method custom -Confirm:$false
        Get-WbBalancerPolicy -ConfigRoot $other -Path (Join-Path $bin 'absent') -WarningVariable warned -WarningAction SilentlyContinue | Out-Null
        $warned | Should -BeLike '*not this module''s balancer program*'
    }

    It '-StoreMaxAgeMs sets how old the store''s view may be, and Format-List shows it' {
        Set-WbBalancerPolicy -ConfigRoot $root -StoreMaxAgeMs 250 -Confirm:$false
        (Get-WbBalancerPolicy -ConfigRoot $root -Path $program).StoreMaxAgeMs | Should -Be 250
        (Get-WbBalancerPolicy -ConfigRoot $root -Path $program | Format-List | Out-String -Width 80) | Should -Match 'StoreMaxAgeMs\s+: 250'
    }

    It 'a bad -StoreMaxAgeMs is InvalidStoreMaxAge, InvalidArgument, and writes nothing' {
        $before = Get-FileHash -LiteralPath (Join-Path $root 'workbenchadmin.conf')
        $e = { Set-WbBalancerPolicy -ConfigRoot $root -StoreMaxAgeMs -1 -ErrorAction Stop } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'InvalidStoreMaxAge,*'
        $e.Exception.Message | Should -BeLike '*-StoreMaxAgeMs -1 must be from 0*'
        (Get-FileHash -LiteralPath (Join-Path $root 'workbenchadmin.conf')).Hash | Should -Be $before.Hash
    }

    It 'a bad -DeadlineMs is InvalidDeadline, InvalidArgument, and writes nothing' {
        $before = Get-FileHash -LiteralPath (Join-Path $root 'workbenchadmin.conf')
        $e = { Set-WbBalancerPolicy -ConfigRoot $root -DeadlineMs 5 -ErrorAction Stop } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'InvalidDeadline,*'
        (Get-FileHash -LiteralPath (Join-Path $root 'workbenchadmin.conf')).Hash | Should -Be $before.Hash
    }
}

Describe 'The cluster''s own view without the heartbeat agent' -Tag 'Balancer' {
    It 'Get-WbNode -ListNodesText reads rstudio-server list-nodes output' {
        $listNodes = @(
            'Cluster protocol: http'
            'ID  Host               IPv4       Port  Status                     Last Seen'
            '1   node1.example.com  10.0.0.11  8787  Online                     2026-11-29 10:00:00'
            '2   node2.example.com  10.0.0.12  8787  Invalid secure cookie key  2026-11-29 09:58:00'
        )
        $nodes = Get-WbNode -ListNodesText $listNodes
        $nodes.Count | Should -Be 2
        $nodes[1].Status | Should -Be 'Invalid secure cookie key'
        $nodes[1].IPv4Address | Should -Be '10.0.0.12'
        $nodes[0].Protocol | Should -Be 'http'
        (Get-WbNode -ListNodesText $listNodes -Status Online).Host | Should -Be 'node1.example.com'
    }

    It 'a line that is not a node is ListNodesSyntaxError, ParserError, naming the line' {
        $e = { Get-WbNode -ListNodesText 'ID  Host  IPv4  Port  Status  Last Seen', 'x   y     z     w     Online  now' -ErrorAction Stop } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'ListNodesSyntaxError,*'
        $e.CategoryInfo.Category | Should -Be 'ParserError'
        $e.Exception.Message | Should -BeLike '*:2:*'
    }

    It 'Invoke-WbBalanceDecision -Sticky keeps a user where the store shows their sessions' {
        Initialize-BalancerTestState
        $placed = New-WbSession -UserName sticky-user @db -ConfigRoot $root -Method sessions
        'a', 'b' | New-WbSession @db -ConfigRoot $root -Method user-hash | Out-Null
        $decision = Invoke-WbBalanceDecision -UserName sticky-user @db -ConfigRoot $root -Method sessions -Sticky
        $decision.Node | Should -Be $placed.Node
        $decision.Reason | Should -BeLike 'sticky: sticky-user already runs 1 session on this node*'
    }
}

Describe 'What another local user or hostile input cannot make the installed program do (issue 24)' -Tag 'Balancer' {
    BeforeAll {
        # Stand-in pages and syslogs run as root (rserver's part) or as nobody (another local user): their
        # scripts and texts sit in a directory both can read.
        $script:fixtures = [IO.Directory]::CreateTempSubdirectory('wbadmin-issue24-').FullName
        [IO.File]::SetUnixFileMode($fixtures, [IO.UnixFileMode]0x1ED) # 755
        Copy-Item -Path (Join-Path $repoRoot 'tests' 'fixtures' 'balancer' '*.py') -Destination $fixtures
        $script:python = if (Test-Path /usr/bin/python3) { '/usr/bin/python3' } else { (Get-Command python3 -CommandType Application).Source }
        $script:nobody = 65534

        function Open-FakeProcess([string] $Script, [string[]] $Arguments, [switch] $AsNobody) {
            $start = [Diagnostics.ProcessStartInfo]::new($(if ($AsNobody) { 'setpriv' } else { $python }))
            if ($AsNobody) { foreach ($a in "--reuid=$nobody", "--regid=$nobody", '--clear-groups', $python) { $start.ArgumentList.Add($a) } }
            $start.ArgumentList.Add((Join-Path $fixtures $Script))
            foreach ($a in $Arguments) { $start.ArgumentList.Add($a) }
            $start.UseShellExecute = $false
            $start.RedirectStandardOutput = $true
            $process = [Diagnostics.Process]::Start($start)
            $first = $process.StandardOutput.ReadLine()
            [pscustomobject]@{ Process = $process; Line = $first }
        }
        # A status page at every -Listen address, all on one port (-Port 0: a free one), as root or as nobody.
        function Open-FakePage([string[]] $Listen, [int] $Port = 0, [string] $Text = '', [string] $Mode = 'text', [long] $Size = 0, [switch] $AsNobody) {
            $file = Join-Path $fixtures "page-$([guid]::NewGuid().ToString('N')).txt"
            [IO.File]::WriteAllText($file, $Text)
            $arguments = @('--port', $Port, '--mode', $Mode, '--size', $Size, '--text', $file) + @($Listen | ForEach-Object { '--listen', $_ })
            $started = Open-FakeProcess fake-status-page.py ([string[]] $arguments) -AsNobody:$AsNobody
            if ($started.Line -notmatch '^listening (\d+)$') { $started.Process.Kill(); throw "the stand-in page did not start: $($started.Line)" }
            [pscustomobject]@{ Process = $started.Process; Port = [int] $Matches[1] }
        }
        function Close-Fake($Fake) { if ($Fake -and -not $Fake.Process.HasExited) { $Fake.Process.Kill(); $Fake.Process.WaitForExit() } }
        function Format-Page([int[]] $Sessions) {
            $n = 0
            -join @(foreach ($count in $Sessions) {
                "$($entries[$n]) -  Load: 0.1, 0.1, 0.1`n"
                if ($count -gt 0) { foreach ($s in 1..$count) { "   $(1000 * ($n + 1) + $s) - user$s`n" } }
                $n++
            })
        }

        # This node: rserver listens on one address (www-address=127.0.0.2), so 127.0.0.1 and ::1 at its port are anyone's.
        $script:rserverPage = Open-FakePage -Listen 127.0.0.2 -Text (Format-Page 0, 2, 2)
        $script:secRoot = (New-Item -ItemType Directory -Path (Join-Path $work 'issue24-etc')).FullName
        Copy-Item -Path (Join-Path $root '*') -Destination $secRoot -Exclude 'workbenchadmin.conf'
        Add-Content -LiteralPath (Join-Path $secRoot 'rserver.conf') -Value "www-address=127.0.0.2`nwww-port=$($rserverPage.Port)"
        $script:secProgram = Join-Path (New-Item -ItemType Directory -Path (Join-Path $bin 'issue24')).FullName 'rserver-balancer'
        $script:secState = Join-Path $work 'issue24-state'
        $script:secSocket = Join-Path $work 'issue24-run' 'balancer.sock'
        $script:secPolicy = Join-Path $secRoot 'workbenchadmin.conf'
        Install-WbBalancer -Path $secProgram -ConfigRoot $secRoot -Method sessions -MaxSessionsPerNode 40 -StateDirectory $secState -ServiceSocket $secSocket -DeadlineMs 10000 -Confirm:$false
        # The policy as Install-WbBalancer wrote it, for tests that change it by hand.
        $script:secPolicyText = Get-Content -LiteralPath $secPolicy -Raw
        function Initialize-SecPolicy {
            Set-Content -LiteralPath $secPolicy -Value $secPolicyText -NoNewline
            [IO.File]::SetUnixFileMode($secPolicy, [IO.UnixFileMode]0x1A4) # 644
            Initialize-BalancerTestState
        }
    }
    BeforeEach { Initialize-SecPolicy }
    AfterAll {
        Close-Fake $rserverPage
        if ($fixtures) { Remove-Item -LiteralPath $fixtures -Recurse -Force -ErrorAction SilentlyContinue }
    }

    It 'a page nobody serves on 127.0.0.1 and ::1 at www-port does not <Case>: the program reads rserver''s own page at www-address' -ForEach @(
        @{ Case = 'steer every user to one node'; Fake = @(50, 0, 50) }
        @{ Case = 'refuse every login'; Fake = @(50, 50, 50) }
    ) {
        $fake = Open-FakePage -AsNobody -Listen 127.0.0.1, ::1 -Port $rserverPage.Port -Text (Format-Page $Fake)
        try {
            foreach ($u in 1..5) {
                $run = Invoke-Balancer -User "user$u" -Program $secProgram
                $run.Exit | Should -Be 0 -Because $run.Error
                # rserver's page: node1 has no session, node2 and node3 two each.
                $run.Out | Should -Be "$($entries[0])`n" -Because $run.Error
            }
        }
        finally { Close-Fake $fake }
    }

    It 'a status-url at <Address> that nobody serves is not read, and each call says who serves it' -ForEach @(
        @{ Address = '127.0.0.1' }, @{ Address = '[::1]' }, @{ Address = 'localhost' }
    ) {
        $fake = Open-FakePage -AsNobody -Listen 127.0.0.1, ::1 -Text (Format-Page 50, 50, 50)
        try {
            Set-WbBalancerPolicy -ConfigRoot $secRoot -StatusUri "http://$($Address):$($fake.Port)/load-balancer/status" -Confirm:$false
            $run = Invoke-Balancer -User alice -Program $secProgram
            $run.Exit | Should -Be 0 -Because $run.Error
            $run.Out | Should -BeIn ($entries | ForEach-Object { "$_`n" })
            $run.Error | Should -BeLike "*uid $nobody*"
        }
        finally { Close-Fake $fake }
    }

    It 'a status page that never ends is given up at the deadline: the decision service keeps no connection to it' {
        $slow = Open-FakePage -Listen 127.0.0.1 -Mode trickle
        $service = $null
        try {
            Set-WbBalancerPolicy -ConfigRoot $secRoot -StatusUri "http://127.0.0.1:$($slow.Port)/load-balancer/status" -DeadlineMs 600 -Confirm:$false
            $service = Open-DecisionService -Program $secProgram -Socket $secSocket
            $runs = 1..6 | ForEach-Object { Invoke-Balancer -User "user$_" -Program $secProgram }
            $runs | ForEach-Object { $_.Exit | Should -Be 0 -Because $_.Error }
            # Each call's read was abandoned at its deadline; by now every one must have been closed.
            Start-Sleep -Seconds 2
            $open = @(& ss -Htn state established "( sport = :$($slow.Port) )")
            $open.Count | Should -Be 0 -Because "six calls have ended, but $($open.Count) reads of the page are still connected"
        }
        finally {
            if ($service) { Close-DecisionService $service | Out-Null }
            Close-Fake $slow
        }
    }

    It 'a status page of 200 MB is read no further than its bound: the decision service stays small and says why' {
        $huge = Open-FakePage -Listen 127.0.0.1 -Mode huge -Size 200MB
        $service = $null
        try {
            Set-WbBalancerPolicy -ConfigRoot $secRoot -StatusUri "http://127.0.0.1:$($huge.Port)/load-balancer/status" -DeadlineMs 8000 -Confirm:$false
            $service = Open-DecisionService -Program $secProgram -Socket $secSocket
            $runs = 1..2 | ForEach-Object { Invoke-Balancer -User "user$_" -Program $secProgram }
            $runs | ForEach-Object { $_.Exit | Should -Be 0 -Because $_.Error }
            $runs[0].Error | Should -BeLike '*larger than*'
            $peak = [long] ((Get-Content -LiteralPath "/proc/$($service.Process.Id)/status" | Where-Object { $_ -match '^VmHWM:' }) -replace '\D', '') * 1KB
            $peak | Should -BeLessThan 150MB -Because "the service's peak resident size was $([math]::Round($peak / 1MB)) MB"
        }
        finally {
            if ($service) { Close-DecisionService $service | Out-Null }
            Close-Fake $huge
        }
    }

    It 'a policy file its group can write is refused: no user goes to a drained node, and each call says why' {
        Get-WbNode @db -HostName 'node2.wbtest.example' | Suspend-WbNode @db -Confirm:$false
        [IO.File]::SetUnixFileMode($secPolicy, [IO.UnixFileMode]0x1B4) # 664
        $runs = 1..16 | ForEach-Object { Invoke-Balancer -User "user$_" -Program $secProgram }
        $runs.Out | Should -Not -Contain "$($entries[1])`n"
        # Without the file the cap cannot be known: the program refuses rather than risk overloading a node.
        $runs | ForEach-Object { $_.Exit | Should -Be 1; $_.Error | Should -BeLike '*writable by its group*' }
    }

    It 'a policy file with an invalid value is refused, but its drain and its cap still hold' {
        Get-WbNode @db -HostName 'node2.wbtest.example' | Suspend-WbNode @db -Confirm:$false
        # No status-url: rserver's page (node1 none, node2 and node3 two sessions each); node3 is full at 2.
        Set-Content -LiteralPath $secPolicy -Value "[balancer]`nmethod=sessions`nmax-sessions-per-node=2`ndeadline-ms=20`nstate-directory=$secState`nservice-socket=$secSocket"
        $runs = 1..16 | ForEach-Object { Invoke-Balancer -User "user$_" -Program $secProgram }
        $runs | ForEach-Object {
            $_.Exit | Should -Be 0 -Because $_.Error
            $_.Out | Should -Be "$($entries[0])`n" -Because $_.Error
            $_.Error | Should -BeLike '*workbenchadmin.conf:4:*'
        }
    }

    It 'Get-WbBalancerPolicy says a policy file its group can write is refused, and why' {
        [IO.File]::SetUnixFileMode($secPolicy, [IO.UnixFileMode]0x1B4) # 664
        $policy = Get-WbBalancerPolicy -ConfigRoot $secRoot -Path $secProgram -WarningVariable warned -WarningAction SilentlyContinue
        $policy.Refused | Should -BeLike '*writable by its group*'
        ($warned -join "`n") | Should -BeLike '*refuse*'
        $policy | Format-List | Out-String | Should -Match 'Refused\s+: .*writable by its group'
    }

    It 'Get-WbBalancerPolicy says a policy file with an invalid value is refused, naming its line' {
        Set-Content -LiteralPath $secPolicy -Value "[balancer]`nmethod=sessions`nmax-sessions-per-node=2`ndeadline-ms=20"
        $policy = Get-WbBalancerPolicy -ConfigRoot $secRoot -Path $secProgram -WarningAction SilentlyContinue
        $policy.Refused | Should -BeLike '*workbenchadmin.conf:4:*'
        $policy.MaxSessionsPerNode | Should -Be 2
    }

    It '<Command> leaves a policy file its group could write root-owned and writable by root alone' -ForEach @(
        @{ Command = 'Set-WbBalancerPolicy' }, @{ Command = 'Install-WbBalancer' }
    ) {
        [IO.File]::SetUnixFileMode($secPolicy, [IO.UnixFileMode]0x1B4) # 664
        if ($Command -eq 'Set-WbBalancerPolicy') { Set-WbBalancerPolicy -ConfigRoot $secRoot -Method sessions -Confirm:$false }
        else { Install-WbBalancer -Path $secProgram -ConfigRoot $secRoot -Method sessions -Confirm:$false }
        (Get-Item -LiteralPath $secPolicy).UnixMode | Should -Be '-rw-r--r--'
        (Get-WbBalancerPolicy -ConfigRoot $secRoot -Path $secProgram).Refused | Should -BeNullOrEmpty
        (Invoke-Balancer -User alice -Program $secProgram).Exit | Should -Be 0
    }

    It 'an RSTUDIO_NODES entry that is not UTF-8 is printed as the exact bytes given (<Who>)' -ForEach @(
        @{ Who = 'the program alone' }, @{ Who = 'through the decision service' }
    ) {
        $service = if ($Who -like '*service*') { Open-DecisionService -Program $secProgram -Socket $secSocket }
        try {
            # Two entries; node1 drained, so the one with the byte 0xFF must be chosen.
            Get-WbNode @db -HostName 'node1.wbtest.example' | Suspend-WbNode @db -Confirm:$false
            $hex = & bash -c 'RSTUDIO_USERNAME=alice RSTUDIO_NODES="$2,$(printf "node\377x.wbtest.example:8787")" "$1" </dev/null 2>/dev/null | od -An -tx1 -v' bash $secProgram $entries[0]
            $expected = [byte[]] @([Text.Encoding]::ASCII.GetBytes('node') + 0xFF + [Text.Encoding]::ASCII.GetBytes("x.wbtest.example:8787`n"))
            (-split ($hex -join ' ')) -join ' ' | Should -Be (($expected | ForEach-Object { $_.ToString('x2') }) -join ' ')
        }
        finally { if ($service) { Close-DecisionService $service | Out-Null } }
    }

    It 'one decision writes lines of at most 2048 bytes on stderr, however many entries Workbench passes' {
        $many = (@(1..5000 | ForEach-Object { "u$($_):1" }) + $entries) -join ','
        $run = Invoke-Balancer -User alice -Nodes $many -Program $secProgram
        $run.Exit | Should -Be 0 -Because $run.Error
        $run.Error | Should -BeLike '*5000*'
        $run.Error -split "`n" | ForEach-Object { [Text.Encoding]::UTF8.GetByteCount($_) | Should -BeLessOrEqual 2048 }
    }

    Context 'syslog, through a /dev/log of the test''s own (a private mount namespace)' {
        BeforeAll {
            $script:canUnshare = $null -ne (Get-Command unshare -ErrorAction SilentlyContinue) -and $(& unshare --mount true 2>$null; $LASTEXITCODE -eq 0)
            # A /dev of a few devices and a 'log' socket, mounted over /dev for the program alone.
            function Invoke-WithFakeDevLog([string] $Mode, [string] $Nodes, [int] $WaitSec = 20) {
                $dev = Join-Path $fixtures "dev-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
                New-Item -ItemType Directory -Path $dev | Out-Null
                foreach ($d in 'null', 'zero', 'full', 'random', 'urandom', 'tty') { New-Item -ItemType File -Path (Join-Path $dev $d) | Out-Null }
                foreach ($l in @{ fd = '/proc/self/fd'; stdin = '/proc/self/fd/0'; stdout = '/proc/self/fd/1'; stderr = '/proc/self/fd/2' }.GetEnumerator()) {
                    New-Item -ItemType SymbolicLink -Path (Join-Path $dev $l.Key) -Target $l.Value | Out-Null
                }
                $record = Join-Path $fixtures "syslog-$([guid]::NewGuid().ToString('N')).txt"
                $syslog = Open-FakeProcess fake-syslog.py @('--socket', (Join-Path $dev 'log'), '--mode', $Mode, '--out', $record)
                try {
                    if ($syslog.Line -ne 'ready') { throw "the stand-in syslog did not start: $($syslog.Line)" }
                    $start = [Diagnostics.ProcessStartInfo]::new('unshare')
                    $inner = 'for d in null zero full random urandom tty; do mount --bind /dev/$d "$1/$d"; done; mount --rbind "$1" /dev && exec "$2"'
                    foreach ($a in '--mount', '--propagation', 'private', 'sh', '-c', $inner, 'sh', $dev, $secProgram) { $start.ArgumentList.Add($a) }
                    $start.UseShellExecute = $false
                    $start.RedirectStandardInput = $true
                    $start.RedirectStandardOutput = $true
                    $start.RedirectStandardError = $true
                    $start.Environment['RSTUDIO_USERNAME'] = 'alice'
                    $start.Environment['RSTUDIO_NODES'] = $Nodes
                    $watch = [Diagnostics.Stopwatch]::StartNew()
                    $process = [Diagnostics.Process]::Start($start)
                    $process.StandardInput.Close()
                    $output = $process.StandardOutput.ReadToEndAsync()
                    $errors = $process.StandardError.ReadToEndAsync()
                    $ended = $process.WaitForExit($WaitSec * 1000)
                    if (-not $ended) { $process.Kill($true); $process.WaitForExit() }
                    Start-Sleep -Milliseconds 200 # the stand-in writes what it received
                    [pscustomobject]@{
                        Ended = $ended; Elapsed = $watch.Elapsed; Exit = $process.ExitCode; Out = $output.Result; Error = $errors.Result
                        Lengths = @(if (Test-Path -LiteralPath $record) { Get-Content -LiteralPath $record | ForEach-Object { [int] $_ } })
                    }
                }
                finally {
                    Close-Fake $syslog
                    Remove-Item -LiteralPath $dev -Recurse -Force -ErrorAction SilentlyContinue
                }
            }
        }

        It 'a syslog that has stopped reading does not hold the decision past its deadline' {
            if (-not $canUnshare) { Set-ItResult -Skipped -Because 'unshare --mount is not available here (a private /dev/log needs a mount namespace)'; return }
            Set-WbBalancerPolicy -ConfigRoot $secRoot -StatusUri $noStatusPage -DeadlineMs 1000 -Confirm:$false
            $run = Invoke-WithFakeDevLog -Mode full -Nodes $nodes
            $run.Ended | Should -BeTrue -Because 'the program was still running 20 s after it started: it waited on syslog'
            $run.Exit | Should -Be 0 -Because $run.Error
            $run.Error | Should -BeLike '*status page*' -Because 'it had a line for syslog (the status page did not answer)'
            $run.Elapsed.TotalMilliseconds | Should -BeLessThan 6000
        }

        It 'syslog gets lines of at most 2048 bytes, however many entries Workbench passes' {
            if (-not $canUnshare) { Set-ItResult -Skipped -Because 'unshare --mount is not available here (a private /dev/log needs a mount namespace)'; return }
            $many = (@(1..5000 | ForEach-Object { "u$($_):1" }) + $entries) -join ','
            $run = Invoke-WithFakeDevLog -Mode record -Nodes $many
            $run.Exit | Should -Be 0 -Because $run.Error
            $run.Lengths.Count | Should -BeGreaterThan 0
            $run.Lengths | ForEach-Object { $_ | Should -BeLessOrEqual 2048 }
        }
    }
}
