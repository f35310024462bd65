#Requires -Modules Pester
<#
    The cluster verification suite (WorkbenchAdmin.Cluster.Tests.ps1) run the way an admin runs it, on a node of a
    throwaway cluster on this machine: a private PostgreSQL, configuration roots built from examples/etc-rstudio as
    the guide says (shared storage owned by nobody:nogroup, the key and database.conf mode 600, the password
    encrypted), listeners on each node's HTTP and launcher ports, every node registered and heartbeating, and the
    guide's four sessions placed.

    Where network namespaces can be made (root, iproute2: CI), the cluster is three real hosts
    (tests/fixtures/netns-cluster: own addresses, host names and mounts) and the suite runs on node1; one check
    fails, truthfully: the shared storage is a bind mount, not NFS. Elsewhere it is two nodes on loopback aliases
    of this host, and a second check fails: the nodes' addresses are loopback addresses. Every other check passes.
    The suite runs in a fresh pwsh (Invoke-Pester -PassThru, results as JSON), so its Its are checked here.
#>

BeforeAll {
    # Set first, so AfterAll finds them whatever failed (the build runs Pester under Set-StrictMode -Version Latest).
    $script:cluster = $null
    $script:netnsWork = $null
    $script:pg = $null
    $script:listeners = [Collections.Generic.List[Net.Sockets.TcpListener]]::new()
    $script:modulePath = if ($env:WORKBENCHADMIN_MODULE) { $env:WORKBENCHADMIN_MODULE } else { 'WorkbenchAdmin' }
    Import-Module $modulePath -Force -ErrorAction Stop
    $script:suite = Join-Path $PSScriptRoot 'WorkbenchAdmin.Cluster.Tests.ps1'
    $repoRoot = Split-Path (Split-Path $PSScriptRoot -Parent) -Parent
    Add-Type -LiteralPath (Join-Path (Get-Module WorkbenchAdmin).ModuleBase 'module' 'WorkbenchAdmin.Testing.dll')
    . (Join-Path $repoRoot 'tests' 'fixtures' 'netns-cluster' 'NetnsCluster.ps1')
    $script:netnsUnsupported = Get-NetnsClusterUnsupportedReason
    if (-not $netnsUnsupported) {
        $script:netnsWork = [IO.Directory]::CreateTempSubdirectory('wbadmin-netns-').FullName
        $script:cluster = Initialize-NetnsCluster -Directory $netnsWork -ModulePath (Join-Path (Get-Module WorkbenchAdmin).ModuleBase 'WorkbenchAdmin.psd1')
        $script:cs = $cluster.Database
        $script:homes = $cluster.HomeRoot
        $script:roots = $cluster.Roots
        $script:secondNode = $cluster.Names[1] + ':8787'
        $script:expectedFailures = @('storage.shared-path')
    }
    else {
        Write-Warning "The cluster suite runs against two nodes on loopback aliases: $netnsUnsupported."
        $script:pg = [WorkbenchAdmin.Testing.ThrowawayPostgres]::Start()
        $script:cs = $pg.ConnectionString('postgres')
        Initialize-WbDatabase -ConnectionString $cs -Confirm:$false | Out-Null

        $work = Join-Path $TestDrive 'cluster'
        $shared = (New-Item -ItemType Directory -Force -Path (Join-Path $work 'shared')).FullName
        $script:homes = (New-Item -ItemType Directory -Force -Path (Join-Path $work 'home')).FullName
        chown nobody:nogroup $shared
        $key = [Convert]::ToHexString([Security.Cryptography.RandomNumberGenerator]::GetBytes(32))
        # The example's own, published placeholder password.
        $password = [Net.NetworkCredential]::new('', 'example-only-not-a-secret').SecurePassword
        # Each node's HTTP (rserver) and launcher ports: listeners on its own loopback address. The ports are free ones,
        # the same on both addresses (launcher.conf is identical on every node), so other test runs on this machine do not collide.
        function Open-NodeListener([int] $Port) {
            foreach ($nodeNumber in 1, 2) {
                $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Parse("127.0.0.1$nodeNumber"), $Port)
                $listener.Start()
                $listeners.Add($listener)
                $Port = $listener.LocalEndpoint.Port
            }
            $Port
        }
        function Get-NodePort {
            for ($try = 0; ; $try++) {
                try { return Open-NodeListener 0 }
                catch { if ($try -ge 20) { throw } }
            }
        }
        $wwwPort = Get-NodePort
        $launcherPort = Get-NodePort
        $script:roots = foreach ($nodeNumber in 1, 2) {
            $nodeRoot = (New-Item -ItemType Directory -Force -Path (Join-Path $work "node$nodeNumber")).FullName
            Copy-Item -Path (Join-Path $repoRoot 'examples' 'etc-rstudio' '*') -Destination $nodeRoot
            # www-address and www-port: where the heartbeat finds this node's rserver (the listener standing in for it).
            Set-Content -LiteralPath (Join-Path $nodeRoot 'rserver.conf') -Value "load-balancing-enabled=1`nserver-shared-storage-path=$shared`nwww-address=127.0.0.1$nodeNumber`nwww-port=$wwwPort`nlauncher-port=$launcherPort`nlauncher-sessions-enabled=1"
            Set-Content -LiteralPath (Join-Path $nodeRoot 'launcher.conf') -Value "[server]`naddress=0.0.0.0`nport=$launcherPort`n`n[cluster]`nname=Local`ntype=Local"
            Set-WbBalancer -ConfigRoot $nodeRoot -Method sessions -WwwHostName "127.0.0.1${nodeNumber}:$wwwPort" -Confirm:$false
            Set-Content -LiteralPath (Join-Path $nodeRoot 'secure-cookie-key') -Value $key
            # The guide's way: encrypt the password once, then copy database.conf to every node (identical /etc/rstudio).
            if ($nodeNumber -eq 1) { Protect-WbDatabasePassword -Password $password -ConfigRoot $nodeRoot -Apply -Confirm:$false | Out-Null }
            else { Copy-Item -LiteralPath (Join-Path $work 'node1' 'database.conf') -Destination $nodeRoot }
            chmod 600 (Join-Path $nodeRoot 'secure-cookie-key') (Join-Path $nodeRoot 'database.conf')
            $nodeRoot
        }
        foreach ($nodeRoot in $roots) { Register-WbNode -ConfigRoot $nodeRoot -ConnectionString $cs | Out-Null }
        # A second heartbeat each, so every node has read the other's marker in shared storage.
        foreach ($nodeRoot in $roots) { Update-WbNodeStatus -ConfigRoot $nodeRoot -ConnectionString $cs }
        $script:secondNode = "127.0.0.12:$wwwPort"
        $script:expectedFailures = @('network.www-host-name', 'storage.shared-path')
    }
    1..4 | ForEach-Object { 'user1' } | New-WbSession -ConfigRoot $roots[0] -ConnectionString $cs | Out-Null

    # Runs the cluster suite in a fresh pwsh, as an admin would, and returns each test's name and result.
    function Invoke-ClusterSuite([string] $ConfigRoot, [string] $ConnectionString = $cs) {
        $run = @"
`$container = New-PesterContainer -Path '$suite' -Data @{ ConfigRoot = '$ConfigRoot'; ConnectionString = '$ConnectionString'; HomeRoot = '$homes' }
`$result = Invoke-Pester -Container `$container -PassThru -Output None
`$result.Tests | ForEach-Object { [pscustomobject]@{ Name = `$_.ExpandedName; Result = [string]`$_.Result; Message = [string]`$_.ErrorRecord } } | ConvertTo-Json -Compress
"@
        # On the netns cluster: on node1, in its namespaces (its mounts, its view of the network).
        $json = if ($cluster) { & bash (Join-Path $repoRoot 'tests' 'fixtures' 'netns-cluster' 'netns-cluster.sh') run $cluster.Directory 1 ([Environment]::ProcessPath) -NoProfile -NonInteractive -Command $run }
                else { pwsh -NoProfile -NonInteractive -Command $run }
        if ($LASTEXITCODE -ne 0) { throw "the cluster suite did not run: $json" }
        @($json | ConvertFrom-Json)
    }
    $script:healthy = Invoke-ClusterSuite $roots[0]
    $script:checkIds = @([WorkbenchAdmin.Model.CheckCatalog]::All.Id)
}

AfterAll {
    try {
        if ($cluster) {
            $left = Close-NetnsCluster $cluster
            if ($left) { throw "the netns cluster left: $left" }
        }
    }
    finally {
        if ($netnsWork) { Remove-Item -LiteralPath $netnsWork -Recurse -Force -ErrorAction SilentlyContinue }
        $listeners | ForEach-Object Stop
        if ($pg) { $pg.Dispose() }
    }
}

Describe 'The cluster suite against a throwaway cluster' -Tag 'ClusterSuite' {
    It 'runs one test per check of the catalog' {
        $healthy.Count | Should -Be $checkIds.Count
        foreach ($id in $checkIds) { @($healthy | Where-Object Name -like "${id}:*").Count | Should -Be 1 -Because $id }
    }

    It 'passes every check the cluster can pass on one machine' {
        # storage.home-directories reads this machine's own users (next It), which the test does not choose.
        $failed = @($healthy | Where-Object Result -eq 'Failed' | ForEach-Object { ($_.Name -split ':')[0] } | Where-Object { $_ -ne 'storage.home-directories' } | Sort-Object)
        $failed | Should -Be $expectedFailures
    }

    It "judges this machine's users' home directories, or says there are none" {
        $test = $healthy | Where-Object Name -like 'storage.home-directories:*'
        if ($test.Result -eq 'Failed') { $test.Message | Should -Match 'checked on this node' }
        else { $test.Result | Should -Be 'Skipped' }
    }

    It 'skips the NFS options on a local directory and the services without systemd, saying why' {
        ($healthy | Where-Object Name -like 'storage.nfs-options:*').Result | Should -Be 'Skipped'
        if (-not (Test-Path /run/systemd/system)) {
            ($healthy | Where-Object Name -like 'services.*').Result | Should -Be @('Skipped', 'Skipped')
        }
    }

    It 'fails those that cannot pass with what it found and how to fix it; with real addresses, www-host-name passes' {
        # Truthfully: a bind mount or a local directory is not NFS.
        ($healthy | Where-Object Name -like 'storage.shared-path:*').Message | Should -Match 'local file system'
        $hostName = $healthy | Where-Object Name -like 'network.www-host-name:*'
        if ($cluster) { $hostName.Result | Should -Be 'Passed' }
        else { $hostName.Message | Should -Match 'this machine only' }
    }

    It 'skips the spec checks without -Spec and the version check with its reason' {
        $skipped = @($healthy | Where-Object Result -eq 'Skipped' | ForEach-Object { ($_.Name -split ':')[0] })
        $skipped | Should -Contain 'cluster.version'
        @($skipped | Where-Object { $_ -like 'spec.*' }).Count | Should -Be @($checkIds | Where-Object { $_ -like 'spec.*' }).Count
    }

    It 'fails every check that needs the store, saying why, when the store is unreachable' {
        $closed = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
        $closed.Start()
        $port = $closed.LocalEndpoint.Port
        $closed.Stop()
        $unreachable = Invoke-ClusterSuite $roots[0] -ConnectionString "Host=127.0.0.1;Port=$port;Username=postgres;Password=x;Timeout=2"
        $needStore = @([WorkbenchAdmin.Model.CheckCatalog]::All | Where-Object Scope -eq 'Cluster' | ForEach-Object Id)
        foreach ($id in $needStore) {
            $test = $unreachable | Where-Object Name -like "${id}:*"
            $test.Result | Should -Be 'Failed' -Because $id
            $test.Message | Should -Match 'could not be checked'
        }
    }

    It 'examples/verify-cluster.ps1 exits 0 only when the checks it selects ran and passed' {
        # As on a node: WorkbenchAdmin imported by name, this node's /etc/rstudio named by WORKBENCHADMIN_CONFIG_ROOT.
        $saved = $env:WORKBENCHADMIN_CONFIG_ROOT, $env:PSModulePath
        $env:WORKBENCHADMIN_CONFIG_ROOT = $roots[0]
        $env:PSModulePath = (Split-Path (Split-Path (Get-Module WorkbenchAdmin).ModuleBase -Parent) -Parent) + [IO.Path]::PathSeparator + $env:PSModulePath
        try {
            $verify = Join-Path $repoRoot 'examples' 'verify-cluster.ps1'
            $output = & ([Environment]::ProcessPath) -NoProfile -NonInteractive -File $verify -Tag security -Report (Join-Path $TestDrive 'security.xml') 2>&1
            $LASTEXITCODE | Should -Be 0 -Because ($output -join "`n")
            $output = & ([Environment]::ProcessPath) -NoProfile -NonInteractive -File $verify -Tag no-such-area -Report (Join-Path $TestDrive 'none.xml') 2>&1
            $LASTEXITCODE | Should -Be 1 -Because 'no check ran'
            ($output -join "`n") | Should -Match 'no check ran'
        }
        finally { $env:WORKBENCHADMIN_CONFIG_ROOT, $env:PSModulePath = $saved }
    }

    It 'fails cluster.key when one node''s secure-cookie-key drifts' {
        $drifted = $roots[1]
        Set-Content -LiteralPath (Join-Path $drifted 'secure-cookie-key') -Value 'another-key'
        try {
            Update-WbNodeStatus -ConfigRoot $drifted -ConnectionString $cs
            $result = Invoke-ClusterSuite $roots[0]
            ($result | Where-Object Name -like 'cluster.key:*').Result | Should -Be 'Failed'
            ($result | Where-Object Name -like 'cluster.key:*').Message | Should -Match ([regex]::Escape($secondNode))
        }
        finally {
            Set-Content -LiteralPath (Join-Path $drifted 'secure-cookie-key') -Value (Get-Content -LiteralPath (Join-Path $roots[0] 'secure-cookie-key'))
        }
    }
}
