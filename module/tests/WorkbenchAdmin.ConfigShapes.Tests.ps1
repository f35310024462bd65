#Requires -Modules Pester
<#
    Issue 21 through the staged module: every shape of /etc/rstudio in tests/fixtures/etc-rstudio-shapes (our own files,
    in the shapes of Posit's Helm chart, Docker images and admin guide) reads without an error and with the values
    Workbench would use; Test-WbCluster runs every node check on a two-cluster launcher.conf; a typo in rserver.conf is
    a Warn naming the nearest option; Set-WbBalancer migrates a pre-2021.09 load-balancer, with -WhatIf.

    Run with the rest: ./build.ps1 -Task Package, Pester (it sets WORKBENCHADMIN_MODULE to the staged manifest).
#>

BeforeAll {
    Import-Module $(if ($env:WORKBENCHADMIN_MODULE) { $env:WORKBENCHADMIN_MODULE } else { 'WorkbenchAdmin' }) -Force -ErrorAction Stop
    # The suite runs from the repository's module/tests.
    $script:shapes = Join-Path (Split-Path (Split-Path $PSScriptRoot -Parent) -Parent) 'tests' 'fixtures' 'etc-rstudio-shapes'
    function Copy-Shape([string] $Name) {
        $root = Join-Path $TestDrive ([guid]::NewGuid().ToString('N'))
        New-Item -ItemType Directory -Path $root | Out-Null
        Copy-Item -Path (Join-Path $shapes $Name '*') -Destination $root
        $root
    }
}

Describe 'Get-WbConfig reads every shape of /etc/rstudio as Workbench does' -Tag 'Config' {
    It '<_> reads without an error' -ForEach 'helm-two-clusters', 'docker-local', 'guide-legacy' {
        $entries = Get-WbConfig -ConfigRoot (Join-Path $shapes $_) -File * -ErrorVariable errs -ErrorAction SilentlyContinue
        $entries | Should -Not -BeNullOrEmpty
        # Only the private key, which is never read, may be refused.
        @($errs | Where-Object { $_.FullyQualifiedErrorId -notlike 'ConfigFileNotReadable,*' }) | Should -BeNullOrEmpty
        @($entries | Where-Object Kind -EQ $null) | Should -BeNullOrEmpty
    }

    It 'tells the two [cluster] sections of launcher.conf apart by their name' {
        $clusters = Get-WbConfig -ConfigRoot (Join-Path $shapes 'helm-two-clusters') -File launcher.conf -Section cluster
        ($clusters | ForEach-Object { "$($_.Instance)/$($_.Key)=$($_.Value)" }) | Should -Be 'Kubernetes/name=Kubernetes', 'Kubernetes/type=Kubernetes', 'Local/name=Local', 'Local/type=Local'
        ($clusters | Select-Object -First 1).Kind | Should -Be 'launcher'
    }

    It 'reads profiles, logging, DCF blocks and lists key by key' {
        $helm = Join-Path $shapes 'helm-two-clusters'
        (Get-WbConfig -ConfigRoot $helm -File launcher.kubernetes.profiles.conf -Section '@data-science' -Key max-cpus).Value | Should -Be '8'
        (Get-WbConfig -ConfigRoot $helm -File logging.conf -Section '@rserver').Value | Should -Be 'debug'
        (Get-WbConfig -ConfigRoot $helm -File r-versions -Key Label | ForEach-Object { "$($_.Instance): $($_.Value)" }) | Should -Be '/opt/R/4.3.3: R 4.3 (stable)', '/opt/R/4.4.1: R 4.4'
        (Get-WbConfig -ConfigRoot $helm -File launcher-env -Key Environment)[0].Value | Should -Be "`n TEAM=analytics`n REGION=north"
        (Get-WbConfig -ConfigRoot (Join-Path $shapes 'docker-local') -File vscode.extensions.conf).Key | Should -Be 'quarto.quarto', 'REditorSupport.r@2.8.4', 'ms-python.python@2024.2.1'
        (Get-WbConfig -ConfigRoot (Join-Path $shapes 'docker-local') -File rserver.conf -Key www-port).Value | Should -Be '8787'
    }

    It 'lists a file that is not key=value with its kind, and never reads a private key' {
        $helm = Join-Path $shapes 'helm-two-clusters'
        $verbose = Get-WbConfig -ConfigRoot $helm -File health-check -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        "$verbose" | Should -BeLike '*health-check: kind document*'
        $e = { Get-WbConfig -ConfigRoot $helm -File launcher.pem -ErrorAction Stop } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'ConfigFileNotReadable,*'
        $e.Exception.Message | Should -Not -BeLike '*BEGIN*'
        $e.Exception.Message | Should -Not -BeLike '*Tk9UIEEg*'
    }

    It 'shows which cluster a setting is in, whole, at 80 columns' {
        $text = Get-WbConfig -ConfigRoot (Join-Path $shapes 'helm-two-clusters') -File launcher.conf | Out-String -Width 80
        $text.Contains([string][char]0x2026) | Should -BeFalse -Because "nothing is cut:`n$text"
        ($text -split "`n" | Measure-Object -Property Length -Maximum).Maximum | Should -BeLessOrEqual 80
        $text | Should -BeLike '*cluster*Local*'
    }
}

Describe 'Test-WbCluster on the shapes' -Tag 'Config' {
    It 'runs every node check on a two-cluster launcher.conf, none "could not be checked"' {
        # Every node check, by id: no cluster store here, so the cross-node checks are not asked for.
        $expected = [WorkbenchAdmin.Model.CheckCatalog]::All | Where-Object Scope -EQ 'Node' | ForEach-Object Id
        $results = Test-WbCluster -ConfigRoot (Copy-Shape 'helm-two-clusters') -Check $expected
        @($results.CheckId | Select-Object -Unique) | Should -Be @($expected)
        @($results | Where-Object Found -Like 'could not be checked*') | Should -BeNullOrEmpty
        ($results | Where-Object CheckId -EQ 'config.launcher-sessions').Status | Should -Be 'Pass'
        ($results | Where-Object CheckId -EQ 'config.launcher-address').Status | Should -Be 'Pass'
    }

    It 'a typo in rserver.conf is a Warn naming the nearest option' {
        $root = Copy-Shape 'docker-local'
        Add-Content -LiteralPath (Join-Path $root 'rserver.conf') -Value 'www-prot=8787'
        $r = Test-WbCluster -ConfigRoot $root -Check config.rserver-options
        $r.Status | Should -Be 'Warn'
        $r.Found | Should -BeLike '*www-prot*did you mean www-port?*'
    }
}

Describe 'Set-WbBalancer migrates a pre-2021.09 load-balancer' -Tag 'Config' {
    It 'Get-WbBalancer says it is the legacy form' {
        $setting = Get-WbBalancer -ConfigRoot (Copy-Shape 'guide-legacy') -WarningVariable warnings -WarningAction SilentlyContinue
        $setting.LegacyForm | Should -BeTrue
        $setting.Method | Should -Be 'system-load'
        "$warnings" | Should -BeLike '*pre-2021.09*Set-WbBalancer migrates it*'
    }

    It '-WhatIf changes nothing, then the migration moves [config] to the top and drops [nodes]' {
        $root = Copy-Shape 'guide-legacy'
        $lb = Join-Path $root 'load-balancer'
        $before = Get-Content -LiteralPath $lb -Raw
        Set-WbBalancer -ConfigRoot $root -WhatIf
        Get-Content -LiteralPath $lb -Raw | Should -BeExactly $before
        Set-WbBalancer -ConfigRoot $root -Confirm:$false
        Get-Content -LiteralPath $lb -Raw | Should -BeExactly "balancer=system-load`n"
        $after = Get-WbBalancer -ConfigRoot $root
        $after.LegacyForm | Should -BeFalse
        $after.LoadBalancing | Should -Be 'Enabled'
    }
}
