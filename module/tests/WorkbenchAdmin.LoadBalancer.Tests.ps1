#Requires -Modules Pester
<#
    Test-WbLoadBalancer and New-WbLoadBalancerConfig end to end, as a user runs them: configurations written by
    the cmdlet or by hand into real files, checked from the file (the xunit suite runs the real nginx, HAProxy
    and Apache in front of stand-in nodes for the live checks and the servers' own syntax checks).

    Run with the rest: ./build.ps1 -Task Package, Pester (it sets WORKBENCHADMIN_MODULE to the staged manifest).
#>

BeforeDiscovery {
    $script:kinds = @('nginx', 'apache', 'haproxy') | ForEach-Object { @{ Kind = $_ } }
    # Our fixtures in the shapes of Posit's admin guide (tests/fixtures/proxy/README.md), with how many of the
    # fixtures' nodes each one fronts.
    $script:positExamples = @(
        @{ Name = 'nginx'; File = 'posit-nginx.conf'; Nodes = 1 }
        @{ Name = 'load-balanced nginx'; File = 'posit-nginx-balanced.conf'; Nodes = 2 }
        @{ Name = 'Apache'; File = 'posit-apache.conf'; Nodes = 1 }
        @{ Name = 'load-balanced Apache'; File = 'posit-apache-balanced.conf'; Nodes = 2 }
    )
    $script:standby = @(
        @{ Name = 'an nginx upstream with backup servers'; File = 'posit-nginx-backup.conf'; Nodes = 3; Standby = 'backup' }
        @{ Name = 'an Apache balancer with a hot standby'; File = 'apache-hot-standby.conf'; Nodes = 2; Standby = 'status=+H' }
        @{ Name = 'a HAProxy backend with a backup server'; File = 'haproxy-backup.cfg'; Nodes = 2; Standby = 'backup' }
    )
}

BeforeAll {
    Import-Module $(if ($env:WORKBENCHADMIN_MODULE) { $env:WORKBENCHADMIN_MODULE } else { 'WorkbenchAdmin' }) -Force -ErrorAction Stop
    $script:nodes = '10.0.0.1:8787', '10.0.0.2:8787'
    $script:ellipsis = [string][char]0x2026
    # A port nothing listens on: a cluster store that cannot be reached.
    $closed = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
    $closed.Start()
    $script:unreachable = "Host=127.0.0.1;Port=$($closed.LocalEndpoint.Port);Username=postgres;Password=x;Timeout=2"
    $closed.Stop()
    $script:site = Join-Path $TestDrive 'workbench.conf'
    $script:fixtures = Join-Path $PSScriptRoot '..' '..' 'tests' 'fixtures' 'proxy'
    $script:fixtureNodes = 'wb1.lab.internal:8787', 'wb2.lab.internal:8787', 'wb3.lab.internal:8787'
    $script:lbChecks = @([WorkbenchAdmin.Model.CheckCatalog]::All | Where-Object Scope -eq 'LoadBalancer' | ForEach-Object Id)
    New-WbLoadBalancerConfig nginx -Node $nodes -ServerName workbench.example.com -Path $site -Confirm:$false
}

Describe 'New-WbLoadBalancerConfig' -Tag 'LoadBalancer' {
    It 'writes the <Kind> configuration that passes every check of Test-WbLoadBalancer' -ForEach $kinds {
        $path = Join-Path $TestDrive "generated-$Kind.conf"
        New-WbLoadBalancerConfig $Kind -Node $nodes -Path $path -Confirm:$false | Should -BeNullOrEmpty
        $results = @(Test-WbLoadBalancer -Path $path -Node $nodes)
        $results.CheckId | Should -Be @([WorkbenchAdmin.Model.CheckCatalog]::All | Where-Object Scope -eq 'LoadBalancer' | ForEach-Object Id)
        $results | Where-Object Status -ne 'Pass' | ForEach-Object ToString | Should -BeNullOrEmpty
    }

    It 'writes the text to the pipeline without -Path' {
        $text = New-WbLoadBalancerConfig haproxy -Node $nodes
        $text | Should -BeOfType [string]
        $text | Should -Match 'server 10\.0\.0\.2:8787 10\.0\.0\.2:8787 cookie node2 check'
    }

    It 'writes nothing under -WhatIf' {
        $path = Join-Path $TestDrive 'whatif.conf'
        New-WbLoadBalancerConfig apache -Node $nodes -Path $path -WhatIf
        Test-Path -LiteralPath $path | Should -BeFalse
    }

    It 'refuses a node that is not host:port, naming it' {
        { New-WbLoadBalancerConfig nginx -Node 'node1' } | Should -Throw -ErrorId 'InvalidNodeAddress,WorkbenchAdmin.Commands.NewWbLoadBalancerConfigCommand'
    }

    It 'refuses -Node <Case>, naming -Node and the value, and writes nothing' -ForEach @(
        @{ Case = 'with a NUL byte'; Node = "node1`0evil:8787"; Shown = 'node1\u0000evil:8787' }
        @{ Case = 'with a port above 65535'; Node = 'node1.example.com:99999'; Shown = 'node1.example.com:99999' }
        @{ Case = 'with port 0'; Node = 'node1.example.com:0'; Shown = 'node1.example.com:0' }
    ) {
        $path = Join-Path $TestDrive "refused-$([guid]::NewGuid().ToString('N')).conf"
        $e = { New-WbLoadBalancerConfig nginx -Node $Node -Path $path -Confirm:$false -ErrorAction Stop } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -Be 'InvalidNodeAddress,WorkbenchAdmin.Commands.NewWbLoadBalancerConfigCommand'
        $e.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $e.Exception.Message | Should -BeLike "-Node '$Shown'*"
        $e.Exception.Message.Contains([char]0) | Should -BeFalse
        Test-Path -LiteralPath $path | Should -BeFalse
    }

    It 'refuses a -ServerName with a control character' {
        { New-WbLoadBalancerConfig nginx -Node $nodes -ServerName "a`0b" } | Should -Throw -ErrorId 'InvalidLoadBalancerValue,WorkbenchAdmin.Commands.NewWbLoadBalancerConfigCommand'
    }

    It 'needs the certificate and the key for TLS' {
        { New-WbLoadBalancerConfig nginx -Node $nodes -TlsCertificate /etc/ssl/wb.pem } | Should -Throw -ErrorId 'TlsIncomplete,WorkbenchAdmin.Commands.NewWbLoadBalancerConfigCommand'
    }
}

Describe 'Test-WbLoadBalancer' -Tag 'LoadBalancer' {
    It 'fails a configuration without sticky sessions with its file, line and fix' {
        $broken = Join-Path $TestDrive 'broken.conf'
        (Get-Content -Raw -LiteralPath $site) -replace '(?m)^\s*ip_hash;\r?\n', '' | Set-Content -LiteralPath $broken -NoNewline
        $results = @(Test-WbLoadBalancer -Path $broken -Node $nodes)
        $failed = @($results | Where-Object Status -ne 'Pass')
        $failed.CheckId | Should -Be 'loadbalancer.sticky'
        $failed[0].Status | Should -Be 'Fail'
        $failed[0].Found | Should -Match ([regex]::Escape($broken) + ':\d+')
        $failed[0].Fix | Should -Match "Add 'ip_hash;' to upstream workbench"
    }

    It 'fails a node missing from the balancer, naming it' {
        $result = Test-WbLoadBalancer -Path $site -Node ($nodes + '10.0.0.3:8787') -Check loadbalancer.nodes
        $result.Status | Should -Be 'Fail'
        $result.Found | Should -Match '10\.0\.0\.3:8787 is not among the servers'
    }

    It '-Quiet gives one boolean' {
        Test-WbLoadBalancer -Path $site -Node $nodes -Quiet | Should -BeTrue
        Test-WbLoadBalancer -Path $site -Node ($nodes + '10.0.0.3:8787') -Quiet | Should -BeFalse
    }

    It 'reports a file it cannot read as a check that could not be made' {
        $results = @(Test-WbLoadBalancer -Path (Join-Path $TestDrive 'missing.conf') -Kind nginx -Node $nodes)
        $results | ForEach-Object { $_.Status | Should -Be 'Fail'; $_.Found | Should -BeLike 'could not be checked:*missing.conf*' }
    }

    It 'does not read an include another user owns in a sticky directory (/tmp): the file is reported as not trusted' {
        $prefix = "/tmp/wbadmin-include-$([guid]::NewGuid().ToString('N'))"
        $main = Join-Path $TestDrive 'main-with-include.conf'
        Set-Content -LiteralPath $main -Value "include $prefix-*.conf;"
        # Written by nobody, as another local user would: a site that passes every check if it is read.
        Get-Content -LiteralPath $site -Raw | & setpriv --reuid=65534 --regid=65534 --clear-groups sh -c "cat > '$prefix-1.conf'"
        try {
            (Get-Item -LiteralPath "$prefix-1.conf").User | Should -Be 'nobody'
            $results = @(Test-WbLoadBalancer -Path $main -Kind nginx -Node $nodes)
            $results.CheckId | Should -Be $lbChecks
            $results | ForEach-Object {
                $_.Status | Should -Be 'Fail'
                $_.Found | Should -BeLike "could not be checked:*$prefix-1.conf*not trusted*uid 65534*"
            }
        }
        finally { Remove-Item -LiteralPath "$prefix-1.conf" -Force -ErrorAction SilentlyContinue }
    }

    It 'fails the nodes check closed when the cluster store cannot be read' {
        $result = Test-WbLoadBalancer -Path $site -ConnectionString $unreachable -Check loadbalancer.nodes 3>$null
        $result.Status | Should -Be 'Fail'
        $result.Found | Should -BeLike "could not be checked: the cluster's nodes are unknown*"
    }

    It 'says what it needs when given neither -Path nor -Uri' {
        { Test-WbLoadBalancer -Node $nodes } | Should -Throw -ErrorId 'LoadBalancerTargetRequired,WorkbenchAdmin.Commands.TestWbLoadBalancerCommand'
    }

    It 'renders at 80 columns without cutting a column' {
        $text = Test-WbLoadBalancer -Path $site -Node $nodes | Out-String -Width 80
        $text.Contains($ellipsis) | Should -BeFalse
        ($text -split "`n" | Measure-Object -Property Length -Maximum).Maximum | Should -BeLessOrEqual 80
    }
}

Describe 'Test-WbCluster -LoadBalancer' -Tag 'LoadBalancer' {
    It 'adds the load balancer checks against the registered nodes, failing closed without the store' {
        $results = @(Test-WbCluster -Check 'loadbalancer.*' -LoadBalancer $site -ConnectionString $unreachable -ConfigRoot $TestDrive 3>$null)
        $results.CheckId | Should -Be $lbChecks
        ($results | Where-Object CheckId -eq 'loadbalancer.nodes').Found | Should -BeLike 'could not be checked:*'
        $results | Where-Object CheckId -ne 'loadbalancer.nodes' | ForEach-Object { $_.Status | Should -Be 'Pass' }
    }
}

Describe 'Test-WbLoadBalancer on the configurations Posit documents' -Tag 'LoadBalancer' {
    It 'passes every check on Posit''s <Name> example' -ForEach $positExamples {
        $results = @(Test-WbLoadBalancer -Path (Join-Path $fixtures $File) -Node $fixtureNodes[0..($Nodes - 1)])
        $results.CheckId | Should -Be $lbChecks
        $results | Where-Object Status -ne 'Pass' | ForEach-Object ToString | Should -BeNullOrEmpty
    }

    It 'takes X-RStudio-Request as the client''s URL, without X-Forwarded-Proto' {
        $path = Join-Path $fixtures 'posit-nginx.conf'
        Get-Content -LiteralPath $path | Should -Not -Match 'X-Forwarded-Proto'
        $result = Test-WbLoadBalancer -Path $path -Node $fixtureNodes[0] -Check loadbalancer.forwarded-headers
        $result.Status | Should -Be 'Pass'
        $result.Found | Should -BeLike "proxy_set_header X-RStudio-Request `$scheme://`$host:`$server_port`$request_uri: the client's scheme, host, port, path (*posit-nginx.conf:19)"
    }

    It 'warns when X-RStudio-Request carries no path, naming the directive' {
        $path = Join-Path $TestDrive 'no-path.conf'
        (Get-Content -Raw -LiteralPath (Join-Path $fixtures 'posit-nginx.conf')).Replace('$scheme://$host:$server_port$request_uri', 'https://workbench.lab.internal') |
            Set-Content -LiteralPath $path -NoNewline
        $result = Test-WbLoadBalancer -Path $path -Node $fixtureNodes[0] -Check loadbalancer.forwarded-headers
        $result.Status | Should -Be 'Warn'
        $result.Found | Should -Match 'no path'
        $result.Fix | Should -Match ([regex]::Escape('proxy_set_header X-RStudio-Request $scheme://$host:$server_port$request_uri;'))
    }

    It 'finds <Name> sticky, and warns separately that it does not spread new users' -ForEach $standby {
        $results = @(Test-WbLoadBalancer -Path (Join-Path $fixtures $File) -Node $fixtureNodes[0..($Nodes - 1)])
        $sticky = $results | Where-Object CheckId -eq 'loadbalancer.sticky'
        $sticky.Status | Should -Be 'Pass'
        $sticky.Found | Should -Match 'sends every request to wb1\.lab\.internal:8787, its one active server'
        $spread = $results | Where-Object CheckId -eq 'loadbalancer.distribution'
        $spread.Status | Should -Be 'Warn'
        $spread.Found | Should -Match 'does not spread new users over every node'
        $spread.Fix | Should -Match ("Remove '" + [regex]::Escape($Standby) + "' from the server")
        $results | Where-Object CheckId -notin 'loadbalancer.distribution' | Where-Object Status -ne 'Pass' | ForEach-Object ToString | Should -BeNullOrEmpty
    }

    It 'says why the Apache example, in the order the page prints it, sends no URL' {
        $result = Test-WbLoadBalancer -Path (Join-Path $fixtures 'posit-apache-as-printed.conf') -Node $fixtureNodes[0] -Check loadbalancer.forwarded-headers
        $result.Status | Should -Be 'Fail'
        $result.Found | Should -Match ([regex]::Escape("Apache sends '(null)://(null)(null)'"))
        $result.Found | Should -Match 'never run, because the \[L\] rules before them'
    }

    It 'reads nginx''s 20d and refuses a time nginx refuses, naming the file and line' {
        $path = Join-Path $TestDrive 'bad-time.conf'
        (Get-Content -Raw -LiteralPath (Join-Path $fixtures 'posit-nginx.conf')).Replace('proxy_read_timeout 20d;', 'proxy_read_timeout 1M;') |
            Set-Content -LiteralPath $path -NoNewline
        (Test-WbLoadBalancer -Path (Join-Path $fixtures 'posit-nginx.conf') -Node $fixtureNodes[0] -Check loadbalancer.timeout).Found | Should -Match '^proxy_read_timeout 20d '
        $result = Test-WbLoadBalancer -Path $path -Node $fixtureNodes[0] -Check loadbalancer.timeout
        $result.Status | Should -Be 'Fail'
        $result.Found | Should -Match ([regex]::Escape("could not be checked: $path`:17: proxy_read_timeout `"1M`" is not an nginx time"))
    }
}
