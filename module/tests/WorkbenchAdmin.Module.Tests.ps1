#Requires -Modules Pester
# Runs where pwsh exists (./build.ps1 -Task Pester): imports the packaged module and exercises the cmdlets
# on temporary configuration roots. The cluster verification suite lives beside this file.
BeforeAll {
    $modulePath = if ($env:WORKBENCHADMIN_MODULE) { $env:WORKBENCHADMIN_MODULE } else { 'WorkbenchAdmin' }
    Import-Module $modulePath -Force
}

Describe 'WorkbenchAdmin module' -Tag 'Module' {
    It 'exports exactly the cmdlets of its manifest' {
        $manifest = Import-PowerShellDataFile (Join-Path (Get-Module WorkbenchAdmin).ModuleBase 'WorkbenchAdmin.psd1')
        (Get-Command -Module WorkbenchAdmin).Name | Sort-Object | Should -Be ($manifest.CmdletsToExport | Sort-Object)
    }

    It 'has help with an example for every cmdlet' {
        foreach ($cmd in Get-Command -Module WorkbenchAdmin) {
            (Get-Help $cmd.Name).Examples.Example.Count | Should -BeGreaterThan 0 -Because $cmd.Name
        }
    }

    It 'completes balancing methods' {
        $r = TabExpansion2 -inputScript 'Set-WbBalancer -Method us' -cursorColumn 'Set-WbBalancer -Method us'.Length
        $r.CompletionMatches.CompletionText | Should -Contain 'user-hash'
    }
}

Describe 'Balancer configuration' -Tag 'Config' {
    BeforeEach {
        $root = Join-Path $TestDrive ([guid]::NewGuid())
        New-Item -ItemType Directory $root | Out-Null
        Set-Content (Join-Path $root 'rserver.conf') "# mine`nload-balancing-enabled=0"
    }

    It 'writes nothing under -WhatIf' {
        Set-WbBalancer -ConfigRoot $root -Method user-hash -WhatIf
        Join-Path $root 'load-balancer' | Should -Not -Exist
        Get-Content (Join-Path $root 'rserver.conf') -Raw | Should -Match 'load-balancing-enabled=0'
    }

    It 'sets the method and enables load balancing' {
        $s = Set-WbBalancer -ConfigRoot $root -Method system-load -PassThru
        $s.Method | Should -Be 'system-load'
        $s.LoadBalancing | Should -Be 'Enabled'
        (Get-WbConfig -ConfigRoot $root -File rserver.conf -Key load-balancing-enabled).Value | Should -Be '1'
    }

    It 'rejects an unknown method with InvalidArgument' {
        { Set-WbBalancer -ConfigRoot $root -Method round-robin -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidBalancingMethod,WorkbenchAdmin.Commands.SetWbBalancerCommand'
    }

    It 'reports a malformed file with its line' {
        Set-Content (Join-Path $root 'launcher.conf') "[server"
        Get-WbConfig -ConfigRoot $root -ErrorVariable errs -ErrorAction SilentlyContinue | Out-Null
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'ConfigSyntaxError,*'
        $errs[0].Exception.Message | Should -BeLike '*launcher.conf:1:*'
    }
}
