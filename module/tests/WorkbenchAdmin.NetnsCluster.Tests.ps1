#Requires -Modules Pester
<#
    A real three-host cluster on this machine, with faults injected (tests/fixtures/netns-cluster): each node in
    its own network, UTS and mount namespaces on a private bridge (169.254.(47+slot).0/24), with its own
    /etc/rstudio, the shared storage bind-mounted at one path, a stand-in rserver and launcher (8787, 5559), and
    the heartbeat running as the systemd service runs it (Update-WbNodeStatus -EverySec); PostgreSQL listens on
    the bridge. Every check and command that "runs on a node" runs in a fresh pwsh inside that node's namespaces.

    Needs root and iproute2 (CI runs as root); elsewhere every It is skipped, saying why. The time each fault
    took to be detected and the placement counts around the database restart are printed at the end.
#>

BeforeAll {
    # Set first, so AfterAll finds them whatever failed (the build runs Pester under Set-StrictMode -Version Latest).
    $script:cluster = $null
    $script:work = $null
    $script:figures = [ordered]@{}
    $modulePath = if ($env:WORKBENCHADMIN_MODULE) { $env:WORKBENCHADMIN_MODULE } else { 'WorkbenchAdmin' }
    Import-Module $modulePath -Force -ErrorAction Stop
    . (Join-Path $PSScriptRoot '..' '..' 'tests' 'fixtures' 'netns-cluster' 'NetnsCluster.ps1')
    $script:unsupported = Get-NetnsClusterUnsupportedReason
    # Its thread-safe build, as pwsh has many threads reading the clock (scenario 4).
    $script:libfaketime = Get-Item /usr/lib/*/faketime/libfaketimeMT.so.1 -ErrorAction SilentlyContinue | Select-Object -First 1
    $script:offlineAfter = 5
    if (-not $unsupported) {
        $script:work = [IO.Directory]::CreateTempSubdirectory('wbadmin-netns-').FullName
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $script:cluster = Initialize-NetnsCluster -Directory $work -ModulePath (Join-Path (Get-Module WorkbenchAdmin).ModuleBase 'WorkbenchAdmin.psd1')
        $figures['cluster up (3 nodes registered, markers read)'] = $watch.Elapsed
        $script:db = @{ ConnectionString = $cluster.Database }
        $script:roots = $cluster.Roots
        $script:names = @($cluster.Names | ForEach-Object { "${_}:8787" })
    }

    function Skip-WhenUnsupported { if ($unsupported) { Set-ItResult -Skipped -Because $unsupported } }

    # The cluster-wide checks as the store sees them, from this host (fast, for polling until a fault shows).
    function Get-ClusterFailure([string[]] $Check) {
        @(Test-WbCluster -ConfigRoot $roots[0] @db -Check $Check -OfflineAfterSec $offlineAfter -ProgressAction SilentlyContinue | Where-Object Status -eq 'Fail')
    }

    # What a healthy node reports: every check passes but the one a bind mount cannot pass (not NFS), and the
    # Workbench version, which no node has (no Workbench installed).
    function Assert-HealthyElse([object[]] $Results, [string[]] $AlsoFailing = @()) {
        # storage.home-directories judges this machine's own users, which the test does not choose.
        $failed = @($Results | Where-Object Status -eq 'Fail' | Where-Object { $_.CheckId -notin $AlsoFailing -and $_.CheckId -ne 'storage.home-directories' })
        $found = ($failed | ForEach-Object { "$($_.CheckId) $($_.Target): $($_.Found)" }) -join '; '
        @($failed.CheckId) | Should -Be @('storage.shared-path') -Because $found
        $failed.Found | Should -Match 'on a local file system'
        @($Results | Where-Object Status -eq 'Warn' | ForEach-Object { "$($_.CheckId): $($_.Found)" }) | Should -BeNullOrEmpty
    }
}

AfterAll {
    try { if ($cluster) { Close-NetnsCluster $cluster | Out-Null } }
    finally { if ($work) { Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue } }
    if ($figures.Count) {
        $lines = foreach ($f in $figures.GetEnumerator()) {
            "  $($f.Key): $(if ($f.Value -is [timespan]) { '{0:0.00} s' -f $f.Value.TotalSeconds } else { $f.Value })"
        }
        Write-Information "netns cluster figures:`n$($lines -join "`n")" -InformationAction Continue
    }
}

Describe 'A three-host cluster in network namespaces' -Tag 'NetnsCluster' {
    It 'gives each node its own address, host name and mount of the shared storage, and a status page the others read' {
        Skip-WhenUnsupported
        $command = @"
`$me = [int]([Net.Dns]::GetHostName() -replace '^node(\d+)\..*', '`$1')
`$other = `$me % 3 + 1
[pscustomobject]@{
    Name = [Net.Dns]::GetHostName()
    Address = @(ip -4 -o addr show dev eth0 | ForEach-Object { (-split `$_)[3] })
    Shared = Test-Path -LiteralPath '$($cluster.SharedPath)'
    Status = @(Get-WbSessionLoad -Uri "http://node`$other.wbcluster.test:8787/load-balancer/status" | ForEach-Object Address)
} | ConvertTo-Json
"@
        $nodes = @(Invoke-NetnsNode $cluster 1, 2, 3 $command)
        foreach ($n in $nodes) {
            $n.Error | Should -BeNullOrEmpty
            $n.Output.Name | Should -Be "node$($n.Node).wbcluster.test"
            $n.Output.Address | Should -Be "$($cluster.Addresses[$n.Node - 1])/24"
            $n.Output.Shared | Should -BeTrue
            # Every node, in node id order (the order they registered in).
            $n.Output.Status | Sort-Object | Should -Be $names
        }
        # The host does not see the nodes' mounts.
        Test-Path -LiteralPath $cluster.SharedPath | Should -BeFalse
    }

    It '1. healthy: Test-WbCluster on each node passes every check but storage.shared-path (a bind mount, not NFS)' {
        Skip-WhenUnsupported
        # The guide's acceptance test first, so session-spread has something to judge.
        1..4 | ForEach-Object { 'user1' } | New-WbSession -ConfigRoot $roots[0] @db | Out-Null
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $checked = @(Invoke-NetnsClusterCheck $cluster 1, 2, 3)
        $figures['1. Test-WbCluster on 3 nodes at once (pwsh start included)'] = $watch.Elapsed
        foreach ($node in $checked) {
            Assert-HealthyElse $node.Results
            # Skipped: what does not apply on these hosts (no Workbench, no systemd, no NFS, no load balancer given).
            @($node.Results | Where-Object Status -eq 'Skip' | ForEach-Object CheckId | Where-Object { $_ -like 'network.*' -or $_ -like 'cluster.*' }) | Should -Be @('cluster.version')
            # Real addresses: what failed only because of loopback now passes.
            ($node.Results | Where-Object CheckId -eq 'network.www-host-name').Found | Should -BeLike "node$($node.Node).wbcluster.test:8787 resolves to $($cluster.Addresses[$node.Node - 1])"
            @($node.Results | Where-Object CheckId -eq 'network.reachable' | Where-Object Status -eq 'Pass').Count | Should -Be 3
        }
        $figures['1. storage.shared-path (every node)'] = ($checked[0].Results | Where-Object CheckId -eq 'storage.shared-path').Found -replace [regex]::Escape($cluster.Directory), '<dir>'
        Get-WbSession @db | Remove-WbSession @db -Confirm:$false
    }

    It '3. a partition between node1 and node2 only: network.reachable names exactly that pair, and nothing else fails' {
        Skip-WhenUnsupported
        $watch = [Diagnostics.Stopwatch]::StartNew()
        Invoke-NetnsClusterScript @('partition', $cluster.Directory, 1, 2) | Out-Null
        try {
            $checked = @(Invoke-NetnsClusterCheck $cluster 1, 2, 3)
            $figures['3. partition node1-node2: named by Test-WbCluster on all 3 nodes after'] = $watch.Elapsed
        }
        finally { Invoke-NetnsClusterScript @('heal', $cluster.Directory, 1, 2) | Out-Null }
        $unreachable = @{}
        foreach ($node in $checked) {
            $unreachable[$node.Node] = @($node.Results | Where-Object { $_.CheckId -eq 'network.reachable' -and $_.Status -eq 'Fail' } | ForEach-Object Target)
            Assert-HealthyElse $node.Results -AlsoFailing 'network.reachable'
        }
        $unreachable[1] | Should -Be @($names[1])
        $unreachable[2] | Should -Be @($names[0])
        $unreachable[3] | Should -BeNullOrEmpty
    }

    It '4. node3''s clock 90 s ahead (libfaketime): cluster.clock names it with the skew' {
        Skip-WhenUnsupported
        if (-not $libfaketime) { Set-ItResult -Skipped -Because 'libfaketime is not installed (apt-get install faketime, ./bootstrap.sh installs it): no clock can be set ahead for one process'; return }
        Close-NetnsAgent $cluster 3
        $watch = [Diagnostics.Stopwatch]::StartNew()
        # The library preloaded by hand rather than through the faketime wrapper: the wrapper forks, so stopping the
        # agent would kill the wrapper and leave the skewed pwsh beating, and it shares a semaphore with its child.
        # The monotonic clock stays true: only the wall clock the heartbeat reports is ahead. Its "monotonic fix" for
        # pthread_cond_timedwait is off: with a true monotonic clock it shortens .NET's timed waits (a 700 ms wait
        # returned after 30-80 ms), so every store timeout and retry delay fired at once and the agent never beat.
        Open-NetnsAgent $cluster 3 -Prefix 'env', "LD_PRELOAD=$($libfaketime.FullName)", 'FAKETIME=+90s', 'FAKETIME_DONT_FAKE_MONOTONIC=1', 'FAKETIME_FORCE_MONOTONIC_FIX=0'
        try {
            $null = Wait-NetnsCondition -TimeoutSec 30 -What 'cluster.clock to name node3' -Log (Get-NetnsLog $cluster 3 agent) { (Get-ClusterFailure cluster.clock | ForEach-Object Target) -contains $names[2] }
            $figures['4. clock 90 s ahead: cluster.clock names node3 after its heartbeat is started (pwsh start and registration included)'] = $watch.Elapsed
            $clock = @((Invoke-NetnsClusterCheck $cluster 1 -Check cluster.clock).Results)
            $failed = @($clock | Where-Object Status -eq 'Fail')
            $failed.Target | Should -Be @($names[2])
            $failed.Found | Should -Match '^its clock was (8[89]|9[0-2])(\.\d)? s ahead of the database''s'
            $figures['4. cluster.clock found'] = $failed.Found
        }
        finally {
            Close-NetnsAgent $cluster 3
            Open-NetnsAgent $cluster 3
            $null = Wait-NetnsCondition -TimeoutSec 30 -What 'node3''s clock to agree again' -Log (Get-NetnsLog $cluster 3 agent) { @(Get-ClusterFailure cluster.clock).Count -eq 0 }
        }
    }

    It '7. a secure-cookie-key drift on node3: it is refused sessions and cluster.key names it' {
        Skip-WhenUnsupported
        $keyFile = Join-Path $roots[2] 'secure-cookie-key'
        $conf = Join-Path $roots[2] 'database.conf'
        $saved = (Get-Content -Raw -LiteralPath $keyFile), (Get-Content -Raw -LiteralPath $conf)
        $watch = [Diagnostics.Stopwatch]::StartNew()
        try {
            # As the README's node3: a key of its own, and so its database.conf password encrypted with that key
            # (with the cluster's ciphertext it could not even log in to the database).
            Set-Content -LiteralPath $keyFile -Value ([Convert]::ToHexString([Security.Cryptography.RandomNumberGenerator]::GetBytes(32)))
            $password = [Net.NetworkCredential]::new('', $cluster.Server.Password).SecurePassword
            Protect-WbDatabasePassword -ConfigRoot $roots[2] -Password $password -Apply -Confirm:$false | Out-Null
            $null = Wait-NetnsCondition -TimeoutSec 30 -What 'node3 to be refused' { (Get-WbNode @db -HostName $cluster.Names[2]).Status -eq 'Invalid secure cookie key' }
            $figures['7. key drift: node3 recorded Invalid secure cookie key after'] = $watch.Elapsed
            $placed = @(1..9 | ForEach-Object { "drift$_" } | New-WbSession -ConfigRoot $roots[0] @db)
            $placed.Count | Should -Be 9
            $placed.Node | Should -Not -Contain $names[2]
            $key = @((Invoke-NetnsClusterCheck $cluster 1 -Check cluster.key).Results | Where-Object Status -eq 'Fail')
            $key.Target | Should -Be @($names[2])
            $key.Found | Should -Match 'secure-cookie-key differs'
            $placed | Remove-WbSession @db -Confirm:$false
        }
        finally {
            Set-Content -LiteralPath $keyFile -Value $saved[0] -NoNewline
            Set-Content -LiteralPath $conf -Value $saved[1] -NoNewline
            $null = Wait-NetnsCondition -TimeoutSec 30 -What 'node3 to be Online again' { (Get-WbNode @db -HostName $cluster.Names[2]).Status -eq 'Online' }
        }
    }

    It '6. the shared storage unmounted on node2: the storage checks and cluster.shared-marker name it, and nothing is created at the mount point' {
        Skip-WhenUnsupported
        $watch = [Diagnostics.Stopwatch]::StartNew()
        Invoke-NetnsClusterScript @('umount-shared', $cluster.Directory, 2) | Out-Null
        try {
            $null = Wait-NetnsCondition -TimeoutSec 30 -What 'cluster.shared-marker to name node2' { (Get-ClusterFailure cluster.shared-marker | ForEach-Object Target) -contains $names[1] }
            $figures['6. shared storage unmounted on node2: cluster.shared-marker names it after'] = $watch.Elapsed
            $command = "[pscustomobject]@{ Results = @(Test-WbCluster -Check 'storage.*', 'cluster.shared-marker' -ProgressAction SilentlyContinue | Select-Object CheckId, @{ n = 'Status'; e = { [string]`$_.Status } }, Target, Found); Entries = @(Get-ChildItem -Force -LiteralPath '$($cluster.MountPoint)').Count } | ConvertTo-Json -Depth 4"
            $node2, $node1 = @(Invoke-NetnsNode $cluster 2, 1 $command)
            $path = ($node2.Output.Results | Where-Object CheckId -eq 'storage.shared-path')
            $path.Status | Should -Be 'Fail'
            $path.Target | Should -Be $roots[1]
            $path.Found | Should -Match 'does not exist on this node'
            ($node2.Output.Results | Where-Object CheckId -eq 'storage.shared-owner').Status | Should -Be 'Skip'
            foreach ($seen in $node1, $node2) {
                $marker = @($seen.Output.Results | Where-Object { $_.CheckId -eq 'cluster.shared-marker' -and $_.Status -eq 'Fail' })
                $marker.Target | Should -Be @($names[1])
                $marker.Found | Should -Match 'is the shared storage mounted'
            }
            # The heartbeat and the checks never create the shared path on the empty mount point.
            $node2.Output.Entries | Should -Be 0
            ($node1.Output.Results | Where-Object CheckId -eq 'storage.shared-path').Found | Should -Match 'on a local file system'
        }
        finally {
            Invoke-NetnsClusterScript @('mount-shared', $cluster.Directory, 2) | Out-Null
            $null = Wait-NetnsCondition -TimeoutSec 30 -What 'node2 to read the markers again' { @(Get-ClusterFailure cluster.shared-marker).Count -eq 0 }
        }
    }

    It '5. PostgreSQL restarted during 3 nodes x 100 parallel placements: each is recorded exactly once or reported failed, and a retry succeeds' {
        Skip-WhenUnsupported
        $restarted = Join-Path $cluster.Directory 'restarted'
        # Each node: 100 placements, 25 at a time (25 runspaces: one each would cost more in module imports than the
        # test is worth), then, once the server is back, a retry of each that failed.
        $command = @"
`$me = [int]([Net.Dns]::GetHostName() -replace '^node(\d+)\..*', '`$1')
`$first = 0..99 | ForEach-Object -ThrottleLimit 25 -Parallel {
    `$i = `$_
    `$user = 'n{0}-u{1:d3}' -f `$using:me, `$i
    Import-Module '$($cluster.Module)'
    Start-Sleep -Milliseconds (20 * (`$i % 25))
    try { [pscustomobject]@{ User = `$user; Id = (New-WbSession -UserName `$user -ErrorAction Stop).Id; Error = `$null } }
    catch { [pscustomobject]@{ User = `$user; Id = `$null; Error = `$_.FullyQualifiedErrorId } }
}
while (-not (Test-Path -LiteralPath '$restarted')) { Start-Sleep -Milliseconds 100 }
`$retried = foreach (`$f in @(`$first | Where-Object { `$null -eq `$_.Id })) {
    try { [pscustomobject]@{ User = `$f.User; Id = (New-WbSession -UserName `$f.User -ErrorAction Stop).Id; Error = `$null } }
    catch { [pscustomobject]@{ User = `$f.User; Id = `$null; Error = `$_.FullyQualifiedErrorId } }
}
[pscustomobject]@{ First = @(`$first); Retried = @(`$retried) } | ConvertTo-Json -Depth 4
"@
        $running = Invoke-NetnsNode $cluster 1, 2, 3 $command -NoWait
        try {
            # Restart once about a third of them are in.
            $null = Wait-NetnsCondition -TimeoutSec 60 -What 'the placements to start' { @(Get-WbSession @db -ErrorAction Stop | Where-Object UserName -like 'n?-u*').Count -ge 60 }
            $watch = [Diagnostics.Stopwatch]::StartNew()
            $cluster.Server.Restart()
            $figures['5. PostgreSQL down (kill -m immediate to accepting again)'] = $watch.Elapsed
        }
        finally { New-Item -ItemType File -Path $restarted -Force | Out-Null }
        $nodes = @(Receive-NetnsNode $running)
        foreach ($n in $nodes) { $n.ExitCode | Should -Be 0 -Because $n.Error }
        $first = @($nodes | ForEach-Object { $_.Output.First })
        $retried = @($nodes | ForEach-Object { $_.Output.Retried })
        $first.Count | Should -Be 300

        # Reconcile with what the store holds (the store answers again: a call may still meet a dead pooled connection).
        $store = @{}
        $null = Wait-NetnsCondition -TimeoutSec 30 -What 'the store to answer' { $store.Rows = @(Get-WbSession @db -ErrorAction Stop | Where-Object UserName -like 'n?-u*'); $true }
        $rows = $store.Rows
        $byUser = $rows | Group-Object UserName -AsHashTable
        $ok = @($first | Where-Object Id)
        $failed = @($first | Where-Object { -not $_.Id })
        foreach ($p in $ok) { @($byUser[$p.User] | ForEach-Object Id) | Should -Be @($p.Id) -Because "$($p.User) was reported placed once" }
        # A placement reported failed wrote nothing: after its retry it has the retry's row only.
        foreach ($p in $retried) {
            $p.Error | Should -BeNullOrEmpty -Because "the retry of $($p.User) after the restart"
            @($byUser[$p.User] | ForEach-Object Id) | Should -Be @($p.Id) -Because "$($p.User) failed, then was retried"
        }
        @($failed | ForEach-Object Error | Where-Object { $_ -notmatch '^Database(Unreachable|Unavailable)' }) | Should -BeNullOrEmpty
        $rows.Count | Should -Be 300
        $lost = 300 - @($byUser.Keys).Count
        $duplicated = @($byUser.Values | Where-Object { @($_).Count -gt 1 }).Count
        $lost | Should -Be 0
        $duplicated | Should -Be 0
        # Every node's session counter agrees with its active sessions.
        $active = @(Get-WbSession @db)
        foreach ($node in Get-WbNode @db) {
            $node.ActiveSessions | Should -Be @($active | Where-Object NodeId -eq $node.Id).Count -Because "$($node.Address) ($(($active | Group-Object { $_.UserName -replace '\d+$' } | ForEach-Object { "$($_.Name) x$($_.Count)" }) -join ', '))"
        }
        $figures['5. placements: recorded first time / reported failed / retried and recorded / lost / duplicated'] =
            "$($ok.Count) / $($failed.Count) / $(@($retried | Where-Object Id).Count) / $lost / $duplicated (failures: $(($failed | ForEach-Object Error | Group-Object | ForEach-Object { "$($_.Name) x$($_.Count)" }) -join ', '))"
        $failed.Count | Should -BeGreaterThan 0 -Because 'the restart fell among the placements'
        # The heartbeats carried on through the restart.
        $null = Wait-NetnsCondition -TimeoutSec 30 -What 'every node to be Online again' { @(Get-WbNode @db -OfflineAfterSec $offlineAfter | Where-Object Status -eq 'Online').Count -eq 3 }
        $rows | Remove-WbSession @db -Confirm:$false
    }

    It '8. the balancer program installed on each node, alone and with its decision service: a drained node receives nothing, across all three nodes'' decisions' {
        Skip-WhenUnsupported
        if (-not (Get-Command Install-WbBalancer -ErrorAction SilentlyContinue)) { Set-ItResult -Skipped -Because 'this package has no Install-WbBalancer (issue 12)' }
        $program = { param($n) Join-Path $cluster.Directory "node$n" 'bin' 'rserver-balancer' }
        foreach ($n in 1..3) { New-Item -ItemType Directory -Force -Path (Split-Path (& $program $n)) | Out-Null }
        $savedBalancer = @(foreach ($root in $roots) { Get-Content -Raw -LiteralPath (Join-Path $root 'load-balancer') })
        # The program's record of drained nodes: node-local, as /var/lib/workbenchadmin is (DIR/var is each node's own).
        # The decision service's socket: each node's own (/run is shared here, as DIR is).
        $socket = { param($n) Join-Path $cluster.Directory "node$n" 'run' 'balancer.sock' }
        for ($i = 0; $i -lt $roots.Count; $i++) {
            Set-Content -LiteralPath (Join-Path $roots[$i] 'workbenchadmin.conf') -Value "[balancer]`nstate-directory=$(Join-Path $cluster.Directory 'var' 'workbenchadmin')`nservice-socket=$(& $socket ($i + 1))"
        }
        try {
            # Installed on each node, by an admin there.
            $installed = @(Invoke-NetnsNode $cluster 1, 2, 3 "Install-WbBalancer -Method consistent-hash -Path (Join-Path '$($cluster.Directory)' ('node' + [Net.Dns]::GetHostName().Split('.')[0].Substring(4)) 'bin' 'rserver-balancer') -SystemdUnitPath (New-Item -ItemType Directory -Force (Join-Path '$($cluster.Directory)' ('systemd-' + [Net.Dns]::GetHostName()))).FullName -Confirm:`$false -PassThru | Select-Object ProgramInstalled, BalancerIsCustom | ConvertTo-Json")
            foreach ($i in $installed) {
                $i.Error | Should -BeNullOrEmpty
                $i.Output.ProgramInstalled | Should -BeTrue
                $i.Output.BalancerIsCustom | Should -BeTrue
            }
            # As Workbench runs it: no arguments, RSTUDIO_USERNAME and RSTUDIO_NODES (every node it deems available,
            # the drained one included: draining is the module's, not Workbench's), one entry out; 10 users per node.
            $nodes = $names -join ','
            function Invoke-BalancerDecision {
                foreach ($n in 1..3) {
                    $loop = "for u in `$(seq 1 10); do RSTUDIO_USERNAME=user`$u RSTUDIO_NODES='$nodes' '$(& $program $n)' || echo FAILED `$?; done"
                    $out = Invoke-NetnsClusterScript @('run', $cluster.Directory, $n, 'sh', '-c', $loop)
                    @($out | Where-Object { $_ -is [string] -and $_ -notlike 'wbadmin-balancer:*' }) | ForEach-Object { [pscustomobject]@{ From = $n; Chosen = $_.Trim() } }
                }
            }
            $before = @(Invoke-BalancerDecision)
            $before.Count | Should -Be 30
            @($before | Where-Object Chosen -notin $names) | Should -BeNullOrEmpty
            # consistent-hash: every node decides alike, and some of these users belong on node2.
            foreach ($n in 2, 3) { @($before | Where-Object From -eq $n).Chosen | Should -Be @($before | Where-Object From -eq 1).Chosen }
            @($before | Where-Object Chosen -eq $names[1]).Count | Should -BeGreaterThan 0

            Suspend-WbNode @db -HostName $cluster.Names[1] -Confirm:$false
            $chosen = @(Invoke-BalancerDecision)
            $chosen.Count | Should -Be 30
            @($chosen | Where-Object Chosen -notin $names) | Should -BeNullOrEmpty
            @($chosen | Where-Object Chosen -eq $names[1]) | Should -BeNullOrEmpty
            # Only node2's users moved: the others stay where they were.
            for ($i = 0; $i -lt 30; $i++) { if ($before[$i].Chosen -ne $names[1]) { $chosen[$i].Chosen | Should -Be $before[$i].Chosen } }
            $figures['8. balancer program (consistent-hash), 30 decisions on 3 nodes: chose node2 before / after draining it'] =
                "$(@($before | Where-Object Chosen -eq $names[1]).Count) / $(@($chosen | Where-Object Chosen -eq $names[1]).Count)"

            # The decision service on each node, as its unit runs it: the same decisions, now the services' answers.
            foreach ($n in 1..3) { Invoke-NetnsClusterScript @('spawn', $cluster.Directory, $n, 'balancer', (& $program $n), '--serve', '--verbose') | Out-Null }
            $null = Wait-NetnsCondition -TimeoutSec 30 -What 'the decision services to listen' -Log (Get-NetnsLog $cluster 1 balancer) { @(1..3 | Where-Object { Test-Path -LiteralPath (& $socket $_) }).Count -eq 3 }
            $served = @(Invoke-BalancerDecision)
            @($served.Chosen) | Should -Be @($chosen.Chosen)
            foreach ($n in 1..3) {
                $log = Get-Content -LiteralPath (Get-NetnsLog $cluster $n balancer)
                @($log | Where-Object { $_ -match '^wbadmin-balancer: user\d+ -> ' }).Count | Should -Be 10 -Because ($log -join "`n")
                @($log | Where-Object { $_ -match " -> $([regex]::Escape($names[1])) " }) | Should -BeNullOrEmpty
            }
        }
        finally {
            foreach ($n in 1..3) { Invoke-NetnsClusterScript @('stop', $cluster.Directory, $n, 'balancer') | Out-Null }
            Resume-WbNode @db -HostName $cluster.Names[1] -Confirm:$false
            for ($i = 0; $i -lt $roots.Count; $i++) {
                Set-Content -LiteralPath (Join-Path $roots[$i] 'load-balancer') -Value $savedBalancer[$i] -NoNewline
                Remove-Item -LiteralPath (Join-Path $roots[$i] 'workbenchadmin.conf') -ErrorAction SilentlyContinue
            }
        }
    }

    It '2. a node dies (agent and listeners killed, link down): Offline within OfflineAfterSec + one heartbeat, no placement chooses it, Test-WbCluster names it' {
        Skip-WhenUnsupported
        $watch = [Diagnostics.Stopwatch]::StartNew()
        Invoke-NetnsClusterScript @('kill-node', $cluster.Directory, 2) | Out-Null
        $null = Wait-NetnsCondition -TimeoutSec 30 -What 'node2 to be Offline' { (Get-WbNode @db -HostName $cluster.Names[1] -OfflineAfterSec $offlineAfter).Status -eq 'Offline' }
        $detected = $watch.Elapsed
        $figures["2. node2 killed: Offline after (OfflineAfterSec $offlineAfter, heartbeat every $($cluster.HeartbeatSec) s)"] = $detected
        $detected.TotalSeconds | Should -BeLessOrEqual ($offlineAfter + $cluster.HeartbeatSec + 0.5)
        $command = "[pscustomobject]@{ Placed = @(1..10 | ForEach-Object { 'dead{0}-{1}' -f [Net.Dns]::GetHostName().Split('.')[0], `$_ } | New-WbSession -OfflineAfterSec $offlineAfter | ForEach-Object Node); Results = @(Test-WbCluster -Check 'cluster.nodes-online', 'network.reachable' -OfflineAfterSec $offlineAfter -ProgressAction SilentlyContinue | Select-Object CheckId, @{ n = 'Status'; e = { [string]`$_.Status } }, Target, Found) } | ConvertTo-Json -Depth 4"
        foreach ($n in Invoke-NetnsNode $cluster 1, 3 $command) {
            $n.Error | Should -BeNullOrEmpty
            @($n.Output.Placed).Count | Should -Be 10
            $n.Output.Placed | Should -Not -Contain $names[1]
            ($n.Output.Results | Where-Object CheckId -eq 'cluster.nodes-online').Found | Should -BeLike "*not online: $($names[1]) (Offline)"
            @($n.Output.Results | Where-Object { $_.CheckId -eq 'network.reachable' -and $_.Status -eq 'Fail' }).Target | Should -Be @($names[1])
        }
    }

    It 'leaves nothing behind: namespaces, links, mounts, processes, PostgreSQL' {
        Skip-WhenUnsupported
        $left = Close-NetnsCluster $cluster
        $left | Should -BeNullOrEmpty
        $slot = "wbadm$($cluster.Slot)"
        @(ip netns list | Where-Object { $_ -match "^${slot}n\d" }) | Should -BeNullOrEmpty
        @(ip -o link show | Where-Object { $_ -match ": ${slot}(br|n\d+h)[@:]" }) | Should -BeNullOrEmpty
        @(Get-Content /proc/self/mountinfo | Where-Object { $_ -like "* $($cluster.Directory)/*" }) | Should -BeNullOrEmpty
        @(Get-ChildItem (Join-Path $cluster.Directory 'pids') -Filter *.pid | Where-Object { Get-Process -Id (Get-Content $_.FullName) -ErrorAction SilentlyContinue }) | Should -BeNullOrEmpty
        Test-Path -LiteralPath $cluster.Server.DataDirectory | Should -BeFalse
        $script:cluster = $null
    }
}
